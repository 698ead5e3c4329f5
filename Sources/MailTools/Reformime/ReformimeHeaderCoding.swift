import MailCore

/// `-h`, `-H`, `-o`, `-O`: RFC 2047 decoding and encoding of header values (spec §4.6).
enum ReformimeHeaderCoding {
    /// `-h`: decode an unstructured header into the display charset. An empty converted
    /// piece prints a line break (Courier's display callback treats length 0 as a wrap point).
    static func decodeUnstructured(_ ctx: ReformimeContext) -> Int32 {
        let out = ctx.out
        RFC2047Decoder.display(ctx.options.headerText, targetCharset: ctx.charset) { piece in
            if piece.isEmpty { out.write(UInt8(ascii: "\n")) } else { out.write(piece) }
        }
        out.write(UInt8(ascii: "\n"))
        return 0
    }

    /// `-o`: encode as an unstructured header (any ASCII allowed in Q words).
    static func encodeUnstructured(_ ctx: ReformimeContext) -> Int32 {
        if let s = RFC2047Encoder.encode(ctx.options.headerText, charset: ctx.charset, allowed: .any) {
            var bytes = s
            if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
            ctx.out.write(bytes)
            ctx.out.write(UInt8(ascii: "\n"))
        }
        return 0
    }

    /// `-H`: decode an address list header (needs the RFC 822 address parser).
    static func decodeAddresses(_ ctx: ReformimeContext) -> Int32 {
        ReformimeAddressCoding.decode(ctx)
    }

    /// `-O`: encode an address list header (needs the RFC 822 address parser).
    static func encodeAddresses(_ ctx: ReformimeContext) -> Int32 {
        ReformimeAddressCoding.encode(ctx)
    }
}
