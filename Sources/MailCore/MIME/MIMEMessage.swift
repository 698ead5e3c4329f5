/// A parsed MIME message: the entity tree over the original bytes (index 0 is the
/// top-level entity), which the caller keeps. Produced by `MIMEParser.parse`.
public struct MIMEMessage: Sendable {
    /// Size of the parsed input.
    public let byteCount: Int
    public let entities: [MIMEEntity]

    public init(byteCount: Int, entities: [MIMEEntity]) {
        self.byteCount = byteCount
        self.entities = entities
    }

    /// Error flags of the whole message.
    public var errors: MIMEErrors { entities[0].errors }

    /// Positions as Courier reports them (`rfc2045_mimepos`).
    public struct Position: Equatable, Sendable {
        public var start: Int
        public var end: Int
        public var startBody: Int
        public var lineCount: Int
        public var bodyLineCount: Int
    }

    /// Start, end and body start of entity `index`, and its line counts. Parts of a
    /// multipart end before the line break that precedes the next delimiter; an entity
    /// without headers has its body start at its end.
    public func position(of index: Int) -> Position {
        let e = entities[index]
        var pos = Position(start: e.startPos, end: e.endPos, startBody: e.startBody,
                           lineCount: e.lineCount, bodyLineCount: e.bodyLineCount)
        if e.parent != nil {
            pos.end = e.endBody
            if pos.lineCount > 0 { pos.lineCount -= 1 }
            if pos.bodyLineCount > 0 { pos.bodyLineCount -= 1 }
        }
        if pos.startBody == pos.start { pos.startBody = pos.end }
        return pos
    }

    /// The body of entity `index` (from its body start to its end), clamped to the input.
    public func bodyRange(of index: Int) -> Range<Int> {
        let pos = position(of: index)
        let lo = min(max(pos.startBody, 0), byteCount)
        let hi = min(max(pos.end, lo), byteCount)
        return lo..<hi
    }

    /// The body of entity `index` as an IMAP section (RFC 3501 §6.4.5): `bodyRange(of:)`, but
    /// a message/rfc822 part of a multipart, and the message in it, end before the line break
    /// that belongs to the next delimiter (RFC 2046 §5.1.1), as Dovecot counts them.
    /// (`position` already moves the body start of an entity without headers to its end.)
    public func sectionBodyRange(of index: Int) -> Range<Int> {
        let e = entities[index]
        return clamped(position(of: index).startBody, e.parent == nil ? e.endPos : e.endInPart)
    }

    /// `from..<to` clamped to the input.
    public func clamped(_ from: Int, _ to: Int) -> Range<Int> {
        let lo = min(max(from, 0), byteCount)
        return lo..<min(max(to, lo), byteCount)
    }

    /// Every numbered section in depth-first order with its id (`[1]`, `[1, 2]`, ...).
    /// Multipart preambles are not sections; a `message/rfc822` entity's child is `.1`.
    public func sections() -> [(index: Int, id: [Int])] {
        var out: [(Int, [Int])] = []
        var stack: [(Int, [Int])] = [(0, [1])]
        while let (index, id) = stack.popLast() {
            out.append((index, id))
            let e = entities[index]
            let firstNumber = e.isMultipart ? 0 : 1
            var kids: [(Int, [Int])] = []
            for (k, child) in e.children.enumerated() {
                let number = firstNumber + k
                if number == 0 { continue }
                kids.append((child, id + [number]))
            }
            stack.append(contentsOf: kids.reversed())
        }
        return out
    }

    /// The entity named by a section id such as `1.2.1`, matched as Courier does
    /// (`rfc2045_find`: numbers compared numerically, a trailing `.` tolerated). Walks down
    /// the tree one component at a time, so the cost is the id's length, not the part count.
    public func find(_ sectionID: String) -> Int? {
        guard let numbers = Self.sectionNumbers(Array(sectionID.utf8)), numbers.first == 1 else { return nil }
        var index = 0
        for number in numbers.dropFirst() {
            // Multipart children are numbered from 0 (the preamble, which is no section).
            let e = entities[index]
            let firstNumber: UInt32 = e.isMultipart ? 0 : 1
            guard number != 0, number >= firstNumber else { return nil }
            let k = Int(number - firstNumber)
            guard k < e.children.count else { return nil }
            index = e.children[k]
        }
        return index
    }

    /// The numbers of a section id: digit runs each followed by `.` or the end (at least
    /// one), compared as Courier's unsigned ints; nil for anything else.
    static func sectionNumbers(_ text: [UInt8]) -> [UInt32]? {
        var numbers: [UInt32] = []
        var p = 0
        repeat {
            guard p < text.count, text[p] >= 0x30, text[p] <= 0x39 else { return nil }
            var n: UInt32 = 0
            while p < text.count, text[p] >= 0x30, text[p] <= 0x39 {
                n = n &* 10 &+ UInt32(text[p] - 0x30)
                p += 1
            }
            if p < text.count {
                if text[p] != UInt8(ascii: ".") { return nil }
                p += 1
            }
            numbers.append(n)
        } while p < text.count
        return numbers
    }

    /// `type/subtype` (default `text/plain`), transfer encoding (default `8bit`) and
    /// charset (default `defaultCharset`) as Courier's `rfc2045_mimeinfo` reports them.
    public func info(of index: Int, defaultCharset: [UInt8]) -> (contentType: [UInt8], transferEncoding: [UInt8], charset: [UInt8]) {
        let e = entities[index]
        var type = Array("text/plain".utf8)
        if let t = e.contentType, !t.isEmpty { type = t }
        var te = Array("8bit".utf8)
        if let t = e.transferEncoding, !t.isEmpty { te = t }
        let cs = e.contentTypeParameters["charset"] ?? defaultCharset
        return (type, te, cs)
    }
}
