import MailCore

/// Quotes (or, at depth 0, copies) the original's `text/plain` part for a reply, in Unicode,
/// then converts it to the reply's charset (spec/tools.md §2.3). Flowed text (RFC 3676) keeps
/// its soft breaks; over-long non-flowed lines are rewrapped (``MailbotRewrap``).
enum MailbotQuoter {
    static let conversionError = Array("\n[ A character set conversion error has occurred]\n".utf8)

    /// The index of the first `text/plain` leaf entity in document order, or nil.
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

    /// The text of entity `index`, quoted `depth` levels deeper, in `charset`.
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
        guard let ucs4 = CharsetConverter.convert(decoded, from: from, to: "UCS-4LE") else {
            return conversionError
        }
        var scalars: [UInt32] = []
        scalars.reserveCapacity(ucs4.bytes.count / 4)
        var i = 0
        while i + 4 <= ucs4.bytes.count {
            let b = ucs4.bytes
            scalars.append(UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
            i += 4
        }
        let format = CByteClass.lowercased(e.contentTypeParameters["format"] ?? [])
        let delsp = CByteClass.lowercased(e.contentTypeParameters["delsp"] ?? [])
        let flowed = format == Array("flowed".utf8)
        let quoted = quoteLines(scalars, depth: depth, flowed: flowed, delsp: flowed && delsp == Array("yes".utf8))
        guard let encoded = CharsetConverter.encode(quoted[...], to: charset) else { return conversionError }
        var out = encoded.bytes
        if ucs4.hadErrors || encoded.hadErrors { out.append(contentsOf: conversionError) }
        return out
    }

    /// Quotes Unicode text `depth` levels deeper (see ``MailbotQuoteWriter``).
    static func quoteLines(_ text: [UInt32], depth: Int, flowed: Bool, delsp: Bool) -> [UInt32] {
        var w = MailbotQuoteWriter(adjust: depth, flowed: flowed)
        var lines = text.split(separator: 10, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for raw in lines {
            var line = raw[...]
            if line.last == 13 { line = line.dropLast() }
            if flowed {
                var level = 0
                while line.first == 0x3E { level += 1; line = line.dropFirst() }
                if line.first == 32 { line = line.dropFirst() }
                // RFC 3676 §4.3: "-- " is a signature separator, never a soft break.
                var soft = false
                if line.last == 32, !line.elementsEqual([45, 45, 32]) {
                    soft = true
                    if delsp { line = line.dropLast() }
                }
                w.begin(level)
                w.contents(line)
                if soft { w.softBreakEnd() } else { w.end() }
            } else {
                w.begin(0)
                MailbotRewrap.run(Array(line), writer: &w)
                w.end()
            }
        }
        return w.out
    }
}

/// The output side of the quoting: Courier's reply formatter callbacks (line begin, contents,
/// flowed break, line end): `>` per level, space-stuffing, trailing blanks dropped except
/// before a soft break.
struct MailbotQuoteWriter {
    let adjust: Int
    let flowed: Bool
    var out: [UInt32] = []
    var level = 0
    var startLine = false
    var trailingSpaces = 0

    init(adjust: Int, flowed: Bool) {
        self.adjust = adjust
        self.flowed = flowed
    }

    mutating func begin(_ originalLevel: Int) {
        level = originalLevel + adjust
        startLine = true
        trailingSpaces = 0
        out.append(contentsOf: repeatElement(0x3E, count: level))
    }

    mutating func contents<C: BidirectionalCollection>(_ text: C) where C.Element == UInt32 {
        guard let first = text.first else { return }
        if startLine {
            let stuff = flowed
                ? (level > 0 || first == 32 || first == 0x3E)
                : ((level > 0 && first != 0x3E) || first == 32)
            if stuff { out.append(32) }
            startLine = false
        }
        var kept = text.count
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == 32 {
            end = text.index(before: end)
            kept -= 1
        }
        if kept > 0 {
            out.append(contentsOf: repeatElement(32, count: trailingSpaces))
            trailingSpaces = 0
            out.append(contentsOf: text[text.startIndex..<end])
        }
        trailingSpaces += text.count - kept
    }

    /// A soft line break (RFC 3676 §4.2): keep the blanks, add the flowing space, go on at
    /// the same level.
    mutating func softBreak() {
        out.append(contentsOf: repeatElement(32, count: trailingSpaces + 1))
        trailingSpaces = 0
        out.append(10)
        begin(level - adjust)
    }

    /// A soft break that ends a physical line of flowed input.
    mutating func softBreakEnd() {
        out.append(contentsOf: repeatElement(32, count: trailingSpaces + 1))
        trailingSpaces = 0
        out.append(10)
    }

    mutating func end() { out.append(10) }
}
