import MailCore

/// `-u`: the message as maildrop's pattern matching sees it (Courier
/// `rfc2045_decodemsgtoutf8`): every entity's headers as `Name: value` with RFC 2047 words
/// decoded to UTF-8 and line breaks turned into spaces, then the decoded and converted
/// body of each `text/*` or `message/*` leaf. 2.9.3 adds no blank line after the headers.
/// A body charset iconv does not know ends the output there, as in Courier; address
/// headers the tokenizer had to repair are printed repaired (2.9.3, unlike upstream).
enum ReformimeUTF8 {
    static func run(_ ctx: ReformimeContext, _ message: MIMEMessage) {
        _ = entity(ctx, message, 0)
    }

    /// Returns false when Courier would stop.
    static func entity(_ ctx: ReformimeContext, _ message: MIMEMessage, _ index: Int) -> Bool {
        for field in MIMEHeaderReader.fields(message, ctx.bytes, index) {
            ctx.out.write(field.name)
            ctx.out.write(": ")
            if !header(ctx, field) { return false }
            ctx.out.write("\n")
        }
        let e = message.entities[index]
        if !e.children.isEmpty {
            for c in e.children where !message.entities[c].isPreamble {
                if !entity(ctx, message, c) { return false }
            }
            return true
        }
        let info = message.info(of: index, defaultCharset: Array(ctx.charset.utf8))
        guard info.contentType.starts(with: Array("text/".utf8)) || info.contentType.starts(with: Array("message/".utf8)) else {
            return true
        }
        var decoded: [UInt8] = []
        _ = TransferDecoder.decode(ctx.bytes, range: message.bodyRange(of: index), encoding: e.transferEncoding) { chunk in
            decoded.append(contentsOf: chunk)
            return true
        }
        guard let converted = CharsetConverter.convert(decoded, from: String(decoding: info.charset, as: UTF8.self), to: "utf-8") else {
            return false
        }
        ctx.out.write(converted.bytes)
        return true
    }

    /// Writes one header value (always true on 2.9.3: nothing in a header stops the output).
    static func header(_ ctx: ReformimeContext, _ field: MIMEHeaderReader.Field) -> Bool {
        let out = ctx.out
        let emit: ([UInt8]) -> Void = { piece in
            for c in piece { out.write(c == 0x0A ? 0x20 : c) }
        }
        if ReformimeAddressCoding.isAddressHeader(field.name) {
            ReformimeAddressCoding.display(field.value, charset: "utf-8", emit: emit, separator: { emit(Array($0.utf8)) })
            return true
        }
        RFC2047Decoder.display(field.value, targetCharset: "utf-8", emit: emit)
        return true
    }
}
