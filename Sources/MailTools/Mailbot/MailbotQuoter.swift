import MailCore

/// Quotes the original's first `text/plain` part for a reply (RFC 3676 aware), converting it
/// to the reply's charset (spec/tools.md §2.3).
enum MailbotQuoter {
    static let conversionError = Array("\n[ A character set conversion error has occurred]\n".utf8)

    /// The index of the first `text/plain` entity in document order, or nil.
    static func firstTextPlain(_ mime: MIMEMessage) -> Int? {
        for i in mime.entities.indices where !mime.entities[i].isPreamble {
            let info = mime.info(of: i, defaultCharset: Array("us-ascii".utf8))
            if CByteClass.lowercased(info.contentType) == Array("text/plain".utf8),
               mime.entities[i].children.isEmpty {
                return i
            }
        }
        return nil
    }

    /// The quoted text of entity `index` of `input`, in `charset`.
    static func quote(_ input: MailbotInput, entity index: Int, charset: String, depth: Int) -> [UInt8] {
        let e = input.mime.entities[index]
        let info = input.mime.info(of: index, defaultCharset: Array("us-ascii".utf8))
        let range = input.mime.bodyRange(of: index)
        var decoded: [UInt8] = []
        input.bytes.withUnsafeBufferPointer { buf in
            _ = TransferDecoder.decode(buf, range: range, encoding: info.transferEncoding) { chunk in
                decoded.append(contentsOf: chunk)
                return true
            }
        }
        let from = String(decoding: info.charset, as: UTF8.self)
        guard let converted = CharsetConverter.convert(decoded, from: from, to: charset) else {
            return conversionError
        }
        let format = CByteClass.lowercased(e.contentTypeParameters["format"] ?? [])
        let delsp = CByteClass.lowercased(e.contentTypeParameters["delsp"] ?? [])
        let flowed = format == Array("flowed".utf8)
        var out = quoteLines(converted.bytes, depth: depth, flowed: flowed, delsp: flowed && delsp == Array("yes".utf8))
        if converted.hadErrors { out.append(contentsOf: conversionError) }
        return out
    }

    /// Quotes text one level deeper. Non-flowed text: `>` then a space unless the line
    /// already starts with `>`; trailing blanks dropped, an empty line becomes `>`.
    /// Flowed text (RFC 3676 §4.5): quote depth parsed, space-stuffing undone and redone,
    /// soft line breaks kept.
    static func quoteLines(_ text: [UInt8], depth adjust: Int, flowed: Bool, delsp: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var lines = text.split(separator: 10, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for raw in lines {
            var line = raw[...]
            if line.last == 13 { line = line.dropLast() }
            var depth = adjust
            var isSoftBreak = false
            if flowed {
                while line.first == UInt8(ascii: ">") { depth += 1; line = line.dropFirst() }
                if line.first == 32 { line = line.dropFirst() }
                // RFC 3676 §4.3: "-- " is a signature separator, never a soft break.
                if line.last == 32, !line.elementsEqual([45, 45, 32]) {
                    isSoftBreak = true
                    if delsp { line = line.dropLast() }
                }
            }
            out.append(contentsOf: repeatElement(UInt8(ascii: ">"), count: depth))
            var trailing = 0
            if !line.isEmpty {
                let stuff = flowed
                    ? (depth > 0 || line.first == 32 || line.first == UInt8(ascii: ">"))
                    : ((depth > 0 && line.first != UInt8(ascii: ">")) || line.first == 32)
                if stuff { out.append(32) }
                var end = line.endIndex
                while end > line.startIndex, line[end - 1] == 32 { end -= 1 }
                out.append(contentsOf: line[line.startIndex..<end])
                trailing = line.endIndex - end
            }
            if isSoftBreak {
                out.append(contentsOf: repeatElement(32, count: trailing + 1))
            }
            out.append(10)
        }
        return out
    }
}
