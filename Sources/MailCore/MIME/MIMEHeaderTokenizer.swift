/// One token of an RFC 822 structured header value, as Courier's MIME parser sees it.
///
/// `kind` is 0 for an atom, `"` for a quoted string, `(` for a comment, or the special
/// character itself (`;`, `=`, `:`, ...). `range` locates the token's text in the source
/// bytes: an atom's text, a quoted string's content without the quotes (backslash pairs
/// kept), a comment including its parentheses.
public struct MIMEHeaderToken: Equatable, Sendable {
    public static let atom: UInt8 = 0
    public static let quoted = UInt8(ascii: "\"")
    public static let comment = UInt8(ascii: "(")

    public var kind: UInt8
    public var range: Range<Int>

    /// Atoms, quoted strings and comments are "word-like" (RFC 822 §3.3).
    public var isWordLike: Bool { kind == 0 || kind == Self.quoted || kind == Self.comment }
}

/// The RFC 822 §3.3 lexical scanner that Courier runs over MIME headers
/// (`Content-Type`, `Content-Disposition`, `Mime-Version`, ...). It only splits text into
/// tokens; address parsing lives elsewhere. Never fails: broken input yields some tokens.
public enum MIMEHeaderTokenizer {
    // RFC 822 §3.3 specials plus the MIME tspecials Courier treats as one-character tokens.
    private static func isSpecial(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"), UInt8(ascii: ","),
             UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "%"),
             UInt8(ascii: "!"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "?"),
             UInt8(ascii: "="), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    /// The narrower RFC 822 specials set that ends an `=?...?=` encoded-word atom.
    private static func isRFC822Special(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"),
             UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: ";"),
             UInt8(ascii: "@"), UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: "."),
             UInt8(ascii: "\""):
            return true
        default:
            return false
        }
    }

    /// C `isspace` in the C/C.UTF-8 locale.
    @inline(__always)
    public static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || (c >= 0x09 && c <= 0x0D)
    }

    /// Splits `text` into tokens. A NUL byte ends the text, as in C.
    public static func tokenize(_ text: [UInt8]) -> [MIMEHeaderToken] {
        var tokens: [MIMEHeaderToken] = []
        var end = text.count
        if let nul = text.firstIndex(of: 0) { end = nul }
        var p = 0
        var inBracket = false
        while p < end {
            let c = text[p]
            if isSpace(c) { p += 1; continue }
            switch c {
            case UInt8(ascii: "("):
                // A comment, nesting counted, backslash escapes one character.
                let start = p
                var level = 0
                var closed = false
                while p < end {
                    let d = text[p]
                    if d == UInt8(ascii: "(") { level += 1 }
                    if d == UInt8(ascii: ")") {
                        level -= 1
                        if level == 0 { p += 1; closed = true; break }
                    }
                    if d == UInt8(ascii: "\\") && p + 1 < end { p += 1 }
                    p += 1
                }
                if !closed {
                    // Unterminated: the rest becomes a quoted-string token, and scanning stops.
                    tokens.append(MIMEHeaderToken(kind: MIMEHeaderToken.quoted, range: start..<min(p, end)))
                    return tokens
                }
                tokens.append(MIMEHeaderToken(kind: MIMEHeaderToken.comment, range: start..<p))
                continue
            case UInt8(ascii: "\""):
                p += 1
                let start = p
                while p < end && text[p] != UInt8(ascii: "\"") {
                    if text[p] == UInt8(ascii: "\\") && p + 1 < end { p += 1 }
                    p += 1
                }
                tokens.append(MIMEHeaderToken(kind: MIMEHeaderToken.quoted, range: start..<min(p, end)))
                if p >= end { return tokens }
                p += 1
                continue
            case UInt8(ascii: "\\"), UInt8(ascii: ")"):
                p += 1
                continue
            default:
                break
            }
            if c == UInt8(ascii: "="), p + 1 < end, text[p + 1] == UInt8(ascii: "?") {
                // Exception: =?...?= without spaces or RFC 822 specials is one atom.
                var j = p + 2
                var found = false
                while j < end {
                    let d = text[j]
                    if d == UInt8(ascii: "?") && j + 1 < end && text[j + 1] == UInt8(ascii: "=") {
                        found = true
                        break
                    }
                    if d == UInt8(ascii: "?") || d == UInt8(ascii: "=") { j += 1; continue }
                    if isRFC822Special(d) || isSpace(d) { break }
                    j += 1
                }
                if found {
                    tokens.append(MIMEHeaderToken(kind: 0, range: p..<(j + 2)))
                    p = j + 2
                    continue
                }
            }
            if isSpecial(c) {
                if (c == UInt8(ascii: "<") && inBracket) || (c == UInt8(ascii: ">") && !inBracket) {
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "<") { inBracket = true }
                if c == UInt8(ascii: ">") { inBracket = false }
                tokens.append(MIMEHeaderToken(kind: c, range: p..<(p + 1)))
                if c == UInt8(ascii: "<"), p + 1 < end, text[p + 1] == UInt8(ascii: ">") {
                    // "<>": a null address, represented by an empty atom.
                    tokens.append(MIMEHeaderToken(kind: 0, range: (p + 1)..<(p + 1)))
                }
                p += 1
                continue
            }
            let start = p
            while p < end && !isSpace(text[p]) && !isSpecial(text[p]) { p += 1 }
            tokens.append(MIMEHeaderToken(kind: 0, range: start..<p))
        }
        return tokens
    }

    /// Courier's `paste_tokens`: the tokens' text joined without separators, comments
    /// skipped, atoms and quoted strings by content, specials as their character.
    public static func paste(_ text: [UInt8], _ tokens: ArraySlice<MIMEHeaderToken>, lowercase: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for t in tokens {
            if t.kind == MIMEHeaderToken.comment { continue }
            if t.kind == 0 || t.kind == MIMEHeaderToken.quoted {
                out.append(contentsOf: text[t.range])
            } else {
                out.append(t.kind)
            }
        }
        if lowercase { asciiLowercase(&out) }
        return out
    }

    static func asciiLowercase(_ bytes: inout [UInt8]) {
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] += 32 }
    }
}
