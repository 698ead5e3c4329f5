import MailCore

/// The lines maildrop's patterns search (tools.md §1.7): the same canonical UTF-8 text as
/// `reformime -u`, split into header lines (`Name: value`, unfolded, RFC 2047 decoded,
/// address headers re-rendered) and decoded body lines of text parts, each tagged.
public enum SearchableText {
    /// One searchable line, without its newline.
    public struct Line: Sendable {
        /// The line holds (part of) a header.
        public var isHeader: Bool
        /// The line holds (part of) a body; 2.9.3 runs a body that lacks a final newline
        /// into the next entity's first header, and such a line is both.
        public var isBody: Bool
        public var text: [UInt8]
    }

    /// Splits the canonical text stream at newlines. 2.9.3 searches a decoded last line that
    /// lacks its newline only when the raw message itself ends with one.
    final class Splitter {
        var lines: [Line] = []
        var current: [UInt8] = []
        var header = false
        var body = false

        func add(_ bytes: [UInt8], isHeader: Bool) {
            for c in bytes {
                if isHeader { header = true } else { body = true }
                if c == 0x0A {
                    if current.last == 0x0D { current.removeLast() }
                    lines.append(Line(isHeader: header, isBody: body, text: current))
                    current = []
                    header = false
                    body = false
                } else {
                    current.append(c)
                }
            }
        }
    }

    /// The lines of `message` in order (headers of each entity, then its text body).
    public static func lines(_ message: [UInt8]) -> [Line] {
        let out = Splitter()
        message.withUnsafeBufferPointer { bytes in
            let parsed = MIMEParser.parse(bytes)
            _ = entity(parsed, bytes, 0, out)
        }
        if message.last == 0x0A && !out.current.isEmpty {
            out.lines.append(Line(isHeader: out.header, isBody: out.body, text: out.current))
        }
        return out.lines
    }

    private static func entity(_ message: MIMEMessage, _ bytes: UnsafeBufferPointer<UInt8>, _ index: Int,
                               _ out: Splitter) -> Bool {
        for field in MIMEHeaderReader.fields(message, bytes, index) {
            var text = field.name + Array(": ".utf8)
            let emit: ([UInt8]) -> Void = { piece in
                for c in piece { text.append(c == 0x0A ? 0x20 : c) }
            }
            if ReformimeAddressCoding.isAddressHeader(field.name) {
                ReformimeAddressCoding.display(field.value, charset: "utf-8", emit: emit, separator: { emit(Array($0.utf8)) })
            } else {
                RFC2047Decoder.display(field.value, targetCharset: "utf-8", emit: emit)
            }
            text.append(0x0A)
            out.add(text, isHeader: true)
        }
        let e = message.entities[index]
        if !e.children.isEmpty {
            for c in e.children where !message.entities[c].isPreamble {
                if !entity(message, bytes, c, out) { return false }
            }
            return true
        }
        let info = message.info(of: index, defaultCharset: Array("utf-8".utf8))
        guard info.contentType.starts(with: Array("text/".utf8)) || info.contentType.starts(with: Array("message/".utf8)) else {
            return true
        }
        var decoded: [UInt8] = []
        _ = TransferDecoder.decode(bytes, range: message.bodyRange(of: index), encoding: e.transferEncoding) { chunk in
            decoded.append(contentsOf: chunk)
            return true
        }
        guard let converted = CharsetConverter.convert(decoded, from: String(decoding: info.charset, as: UTF8.self), to: "utf-8") else {
            return false
        }
        out.add(converted.bytes, isHeader: false)
        return true
    }
}
