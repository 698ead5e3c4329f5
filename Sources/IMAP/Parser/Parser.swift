/// A syntax error in a command: the text goes into `tag BAD <text>` (RFC 3501 §7.1.3).
public struct IMAPSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

/// A cursor over one framed command's bytes with the token rules of RFC 3501 §9 (formal
/// syntax). Every read checks bounds; errors are ``IMAPSyntaxError``s, never traps.
public struct Parser: Sendable {
    public let bytes: [UInt8]
    public var position: Int
    let limits: IMAPLimits
    var depth = 0

    public init(_ bytes: [UInt8], limits: IMAPLimits = IMAPLimits()) {
        self.bytes = bytes
        self.position = 0
        self.limits = limits
    }

    public var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    // MARK: byte classes (RFC 3501 §9)

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isCTL(_ c: UInt8) -> Bool { c < 0x20 || c == 0x7F }
    /// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
    static func isAtomChar(_ c: UInt8) -> Bool {
        if isCTL(c) || c >= 0x80 { return false }
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), 32, UInt8(ascii: "%"), UInt8(ascii: "*"),
             UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"): return false
        default: return true
        }
    }
    /// ASTRING-CHAR = ATOM-CHAR / resp-specials; RFC 6855 lets UTF-8 in with UTF8=ACCEPT.
    static func isAStringChar(_ c: UInt8) -> Bool { isAtomChar(c) || c == UInt8(ascii: "]") || c >= 0x80 }
    /// tag = 1*<any ASTRING-CHAR except "+">
    static func isTagChar(_ c: UInt8) -> Bool { isAStringChar(c) && c != UInt8(ascii: "+") && c < 0x80 }
    /// list-char = ATOM-CHAR / list-wildcards / resp-specials
    static func isListChar(_ c: UInt8) -> Bool {
        isAStringChar(c) || c == UInt8(ascii: "%") || c == UInt8(ascii: "*")
    }

    static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }
    static func uppercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
    }

    // MARK: primitives

    mutating func expect(_ c: UInt8, _ what: String) throws(IMAPSyntaxError) {
        guard peek == c else { throw IMAPSyntaxError("expected \(what)") }
        position += 1
    }

    mutating func space() throws(IMAPSyntaxError) { try expect(32, "a space") }

    mutating func skip(_ c: UInt8) -> Bool {
        if peek == c { position += 1; return true }
        return false
    }

    /// True and consumed when the next bytes are `word` (case-insensitive).
    mutating func skipWord(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard position + w.count <= bytes.count else { return false }
        for (i, c) in w.enumerated() where Self.lowercased([bytes[position + i]])[0] != Self.lowercased([c])[0] {
            return false
        }
        position += w.count
        return true
    }

    mutating func end() throws(IMAPSyntaxError) {
        guard atEnd else { throw IMAPSyntaxError("unexpected characters at the end of the command") }
    }

    mutating func enter() throws(IMAPSyntaxError) {
        depth += 1
        guard depth <= limits.nesting else { throw IMAPSyntaxError("too deeply nested") }
    }

    mutating func leave() { depth -= 1 }

    /// atom = 1*ATOM-CHAR
    mutating func atom() throws(IMAPSyntaxError) -> [UInt8] {
        let start = position
        while let c = peek, Self.isAtomChar(c) { position += 1 }
        guard position > start else { throw IMAPSyntaxError("expected an atom") }
        return Array(bytes[start..<position])
    }

    /// An atom upper-cased as a String, for keywords.
    mutating func keyword() throws(IMAPSyntaxError) -> String {
        String(decoding: Self.uppercased(try atom()), as: UTF8.self)
    }

    /// tag = 1*<any ASTRING-CHAR except "+">
    mutating func tag() throws(IMAPSyntaxError) -> [UInt8] {
        let start = position
        while let c = peek, Self.isTagChar(c) { position += 1 }
        guard position > start else { throw IMAPSyntaxError("missing tag") }
        return Array(bytes[start..<position])
    }

    /// number = 1*DIGIT (32-bit unsigned)
    mutating func number() throws(IMAPSyntaxError) -> UInt32 {
        let start = position
        var value: UInt64 = 0
        while let c = peek, Self.isDigit(c) {
            value = value * 10 + UInt64(c - 48)
            guard value <= UInt64(UInt32.max) else { throw IMAPSyntaxError("number out of range") }
            position += 1
        }
        guard position > start else { throw IMAPSyntaxError("expected a number") }
        return UInt32(value)
    }

    /// number64 (RFC 9051 / RFC 7162 mod-sequence values)
    mutating func number64() throws(IMAPSyntaxError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        while let c = peek, Self.isDigit(c) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 48))
            guard !o1, !o2, a <= UInt64(Int64.max) else { throw IMAPSyntaxError("number out of range") }
            value = a
            position += 1
        }
        guard position > start else { throw IMAPSyntaxError("expected a number") }
        return value
    }

    mutating func nzNumber() throws(IMAPSyntaxError) -> UInt32 {
        let n = try number()
        guard n > 0 else { throw IMAPSyntaxError("zero is not allowed here") }
        return n
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE
    mutating func quoted() throws(IMAPSyntaxError) -> [UInt8] {
        try expect(UInt8(ascii: "\""), "a quoted string")
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw IMAPSyntaxError("unterminated quoted string") }
            position += 1
            switch c {
            case UInt8(ascii: "\""): return out
            case UInt8(ascii: "\\"):
                guard let next = peek, next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else {
                    throw IMAPSyntaxError("bad escape in quoted string")
                }
                out.append(next)
                position += 1
            case 13, 10, 0: throw IMAPSyntaxError("control character in quoted string")
            default: out.append(c)
            }
        }
    }

    /// literal = "{" number ["+"] "}" CRLF *CHAR8; literal8 = "~{" number ["+"] "}" CRLF *OCTET
    mutating func literal(binaryAllowed: Bool = false) throws(IMAPSyntaxError) -> (bytes: [UInt8], binary: Bool) {
        var binary = false
        if peek == UInt8(ascii: "~") {
            guard binaryAllowed else { throw IMAPSyntaxError("binary literal not allowed here") }
            binary = true
            position += 1
        }
        try expect(UInt8(ascii: "{"), "a literal")
        let size = Int(try number())
        _ = skip(UInt8(ascii: "+"))
        try expect(UInt8(ascii: "}"), "} after the literal size")
        try expect(13, "CRLF after the literal size")
        try expect(10, "CRLF after the literal size")
        guard size <= bytes.count - position else { throw IMAPSyntaxError("literal shorter than announced") }
        let value = Array(bytes[position..<(position + size)])
        position += size
        if !binary && value.contains(0) { throw IMAPSyntaxError("NUL in a literal (use a binary literal)") }
        return (value, binary)
    }

    /// string = quoted / literal
    mutating func string() throws(IMAPSyntaxError) -> [UInt8] {
        switch peek {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"): return try literal().bytes
        default: throw IMAPSyntaxError("expected a string")
        }
    }

    /// astring = 1*ASTRING-CHAR / string
    mutating func astring() throws(IMAPSyntaxError) -> [UInt8] {
        if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "{") { return try string() }
        let start = position
        while let c = peek, Self.isAStringChar(c) { position += 1 }
        guard position > start else { throw IMAPSyntaxError("expected a string or atom") }
        return Array(bytes[start..<position])
    }

    /// nstring = string / "NIL"
    mutating func nstring() throws(IMAPSyntaxError) -> [UInt8]? {
        if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "{") { return try string() }
        guard skipWord("NIL") else { throw IMAPSyntaxError("expected a string or NIL") }
        return nil
    }

    /// list-mailbox = 1*list-char / string
    mutating func listMailbox() throws(IMAPSyntaxError) -> [UInt8] {
        if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "{") { return try string() }
        let start = position
        while let c = peek, Self.isListChar(c) { position += 1 }
        guard position > start else { throw IMAPSyntaxError("expected a mailbox pattern") }
        return Array(bytes[start..<position])
    }

    /// mailbox = "INBOX" / astring (INBOX is case-insensitive, RFC 3501 §5.1)
    mutating func mailbox() throws(IMAPSyntaxError) -> MailboxName {
        MailboxName(try astring())
    }

    /// "(" item *(SP item) ")" — or `allowEmpty` for "()".
    mutating func parenthesized<T>(allowEmpty: Bool = false,
                                   _ item: (inout Parser) throws(IMAPSyntaxError) -> T) throws(IMAPSyntaxError) -> [T] {
        try expect(UInt8(ascii: "("), "(")
        try enter()
        defer { leave() }
        var items: [T] = []
        if skip(UInt8(ascii: ")")) {
            guard allowEmpty else { throw IMAPSyntaxError("empty list") }
            return items
        }
        while true {
            items.append(try item(&self))
            if skip(UInt8(ascii: ")")) { return items }
            try space()
        }
    }

    /// A parenthesised list, or a single item without parentheses.
    mutating func oneOrList<T>(_ item: (inout Parser) throws(IMAPSyntaxError) -> T) throws(IMAPSyntaxError) -> [T] {
        if peek == UInt8(ascii: "(") { return try parenthesized(item) }
        return [try item(&self)]
    }
}
