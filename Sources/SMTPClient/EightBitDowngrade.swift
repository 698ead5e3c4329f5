import MailCore

/// RFC 6152 §3: a server without 8BITMIME must not get 8-bit data. Like Courier, convert every
/// MIME leaf part whose body has 8-bit bytes (and is not already base64/quoted-printable) to
/// quoted-printable, and relabel `8bit`/`binary` containers as `7bit`. A message without
/// MIME headers becomes `text/plain; charset=UTF-8` in quoted-printable. Headers are left as
/// they are (8-bit headers need SMTPUTF8; the session refuses those first).
public enum EightBitDowngrade {
    public static func convert(_ message: [UInt8]) -> [UInt8] {
        let parsed = MIMEParser.parse(message)
        guard !parsed.entities.isEmpty else { return message }
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 8)
        var converter = Converter(bytes: message, entities: parsed.entities)
        converter.emit(0, topLevel: true, into: &out)
        let end = min(max(parsed.entities[0].endBody, 0), message.count)
        out += message[end...]
        return out
    }

    private struct Converter {
        let bytes: [UInt8]
        let entities: [MIMEEntity]
        var depth = 0

        func clamp(_ index: Int) -> Int { min(max(index, 0), bytes.count) }

        /// Writes entity `i` from its headers to `endBody`.
        mutating func emit(_ i: Int, topLevel: Bool, into out: inout [UInt8]) {
            let entity = entities[i]
            let start = clamp(entity.startPos), bodyStart = max(clamp(entity.startBody), start)
            let bodyEnd = max(clamp(entity.endBody), bodyStart)
            let children = entity.children.filter { $0 < entities.count && !entities[$0].isPreamble }
            let encoding = entity.transferEncoding ?? []
            if children.isEmpty || depth > 50 {
                let alreadySevenBit = encoding == Array("base64".utf8) || encoding == Array("quoted-printable".utf8)
                let body = bytes[bodyStart..<bodyEnd]
                guard !alreadySevenBit, body.contains(where: { $0 >= 0x80 }) else {
                    out += bytes[start..<bodyEnd]
                    return
                }
                let isMIME = entity.mimeVersion != nil
                var extra: [String] = []
                if topLevel && !isMIME {
                    extra = ["Mime-Version: 1.0", "Content-Type: text/plain; charset=UTF-8"]
                }
                extra.append("Content-Transfer-Encoding: quoted-printable")
                out += rewriteHeaders(bytes[start..<bodyStart], adding: extra)
                var lf: [UInt8] = []
                lf.reserveCapacity(body.count)
                var index = body.startIndex
                while index < body.endIndex {
                    let byte = body[index]
                    index += 1
                    if byte == 13, index < body.endIndex, body[index] == 10 { continue }
                    lf.append(byte)
                }
                var encoder = QuotedPrintableEncoder()
                encoder.encode(lf, into: &out)
                encoder.finish(into: &out)
                return
            }
            let relabel = encoding == Array("8bit".utf8) || encoding == Array("binary".utf8)
            out += relabel ? rewriteHeaders(bytes[start..<bodyStart], adding: ["Content-Transfer-Encoding: 7bit"])
                           : Array(bytes[start..<bodyStart])
            var cursor = bodyStart
            depth += 1
            for child in children {
                let childStart = max(clamp(entities[child].startPos), cursor)
                out += bytes[cursor..<childStart]
                emit(child, topLevel: false, into: &out)
                cursor = max(clamp(entities[child].endBody), childStart)
            }
            depth -= 1
            out += bytes[cursor..<max(cursor, bodyEnd)]
        }

        /// Drops `Content-Transfer-Encoding` (with its continuation lines) and adds `extra`
        /// before the blank line that ends the header block.
        func rewriteHeaders(_ block: ArraySlice<UInt8>, adding extra: [String]) -> [UInt8] {
            var lines: [ArraySlice<UInt8>] = []
            var lineStart = block.startIndex
            for index in block.indices where block[index] == 10 {
                lines.append(block[lineStart...index])
                lineStart = index + 1
            }
            if lineStart < block.endIndex { lines.append(block[lineStart...]) }
            let newline: [UInt8] = lines.first.map { $0.count >= 2 && $0[$0.endIndex - 2] == 13 } == true ? [13, 10] : [10]
            var out: [UInt8] = []
            var dropping = false
            var blank: ArraySlice<UInt8>?
            for line in lines {
                let isBlank = line.allSatisfy { $0 == 13 || $0 == 10 }
                if isBlank { blank = line; break }
                if let first = line.first, first == 32 || first == 9 {
                    if !dropping { out += line }
                    continue
                }
                dropping = Self.isTransferEncoding(line)
                if !dropping { out += line }
            }
            for header in extra { out += Array(header.utf8) + newline }
            out += blank.map(Array.init) ?? newline
            return out
        }

        static func isTransferEncoding(_ line: ArraySlice<UInt8>) -> Bool {
            let name = Array("content-transfer-encoding:".utf8)
            guard line.count >= name.count else { return false }
            for (offset, expected) in name.enumerated() {
                var byte = line[line.startIndex + offset]
                if byte >= 65 && byte <= 90 { byte += 32 }
                if byte != expected { return false }
            }
            return true
        }
    }
}
