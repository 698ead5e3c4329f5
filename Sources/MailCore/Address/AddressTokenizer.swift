/// The result of tokenizing an address header.
public struct AddressTokenization: Sendable, Equatable {
    /// The tokens, in input order.
    public var tokens: [AddressToken]
    /// Input offsets where the tokenizer recovered from a syntax error (unterminated comment or
    /// quoted string, stray `\` or `)`, `<` inside brackets, `>` outside them).
    public var errorOffsets: [Int]
}

/// Courier's RFC 822 address tokenizer (`rfc822t_alloc_new`).
///
/// * Whitespace (C locale) separates tokens and is dropped.
/// * `(`…`)` is a comment (nesting counted, `\` escapes one byte); an unterminated comment turns
///   the rest of the input into a quoted-string token.
/// * `"`…`"` is a quoted string; unterminated, it runs to the end of the input.
/// * Specials are single tokens; a `<` inside `<…>` and a `>` outside are dropped, and `<>` also
///   yields an empty atom (the null address). Stray `\` and `)` are dropped.
/// * `=?…?=` without whitespace or RFC 822 specials inside is one atom (an RFC 2047 encoded word).
/// * Input stops at the first NUL byte, as it does for the C library.
public enum AddressTokenizer {
    /// The byte set that ends an atom.
    static func endsAtom(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: ";"),
             UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "\""), UInt8(ascii: "\\"),
             UInt8(ascii: "?"), UInt8(ascii: "="), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    /// RFC 822 §3.3 specials, as Courier lists them for the encoded-word check.
    static func isRFC822Special(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "\\"),
             UInt8(ascii: ","), UInt8(ascii: "."), UInt8(ascii: "\""):
            return true
        default:
            return false
        }
    }

    /// Tokenizes `input` (up to its first NUL byte).
    public static func tokenize<C: Collection>(_ input: C) -> AddressTokenization where C.Element == UInt8 {
        var s: [UInt8] = []
        s.reserveCapacity(input.underestimatedCount)
        for b in input {
            if b == 0 { break }
            s.append(b)
        }
        return tokenize(terminated: s)
    }

    private static func tokenize(terminated s: [UInt8]) -> AddressTokenization {
        var tokens: [AddressToken] = []
        var errors: [Int] = []
        let n = s.count
        var p = 0
        var inBracket = false
        while p < n {
            let c = s[p]
            if CByteClass.isSpace(c) {
                p += 1
                continue
            }
            switch c {
            case UInt8(ascii: "("):
                let start = p
                var level = 0
                var closed = false
                while p < n {
                    if s[p] == UInt8(ascii: "(") { level += 1 }
                    if s[p] == UInt8(ascii: ")") {
                        level -= 1
                        if level == 0 {
                            p += 1
                            closed = true
                            break
                        }
                    }
                    if s[p] == UInt8(ascii: "\\"), p + 1 < n { p += 1 }
                    p += 1
                }
                if !closed {
                    errors.append(p)
                    tokens.append(AddressToken(kind: .quotedString, text: Array(s[start..<n]), offset: start))
                    return AddressTokenization(tokens: tokens, errorOffsets: errors)
                }
                tokens.append(AddressToken(kind: .comment, text: Array(s[start..<p]), offset: start))

            case UInt8(ascii: "\""):
                p += 1
                let start = p
                while p < n, s[p] != UInt8(ascii: "\"") {
                    if s[p] == UInt8(ascii: "\\"), p + 1 < n { p += 1 }
                    p += 1
                }
                tokens.append(AddressToken(kind: .quotedString, text: Array(s[start..<min(p, n)]), offset: start))
                if p >= n {
                    errors.append(n)
                    return AddressTokenization(tokens: tokens, errorOffsets: errors)
                }
                p += 1

            case UInt8(ascii: "\\"), UInt8(ascii: ")"):
                errors.append(p)
                p += 1

            default:
                if c == UInt8(ascii: "="), let length = encodedWordLength(s, at: p) {
                    tokens.append(AddressToken(kind: .atom, text: Array(s[p..<p + length]), offset: p))
                    p += length
                    continue
                }
                if endsAtom(c) {
                    // A special (the rest of the set was handled above).
                    if (c == UInt8(ascii: "<") && inBracket) || (c == UInt8(ascii: ">") && !inBracket) {
                        errors.append(p)
                        p += 1
                        continue
                    }
                    if c == UInt8(ascii: "<") { inBracket = true }
                    if c == UInt8(ascii: ">") { inBracket = false }
                    tokens.append(AddressToken(kind: .special(c), text: [c], offset: p))
                    if c == UInt8(ascii: "<"), p + 1 < n, s[p + 1] == UInt8(ascii: ">") {
                        // `<>`: the null address, an empty atom.
                        tokens.append(AddressToken(kind: .atom, text: [], offset: p + 1))
                    }
                    p += 1
                    continue
                }
                let start = p
                while p < n, !CByteClass.isSpace(s[p]), !endsAtom(s[p]) { p += 1 }
                tokens.append(AddressToken(kind: .atom, text: Array(s[start..<p]), offset: start))
            }
        }
        return AddressTokenization(tokens: tokens, errorOffsets: errors)
    }

    /// RFC 2047 §2: the length of an encoded word `=?…?=` starting at `p`, or nil. Inside it,
    /// `?` and `=` are allowed; whitespace and RFC 822 specials end the attempt.
    private static func encodedWordLength(_ s: [UInt8], at p: Int) -> Int? {
        let n = s.count
        guard p + 1 < n, s[p + 1] == UInt8(ascii: "?") else { return nil }
        var j = p + 2
        while j < n {
            if s[j] == UInt8(ascii: "?"), j + 1 < n, s[j + 1] == UInt8(ascii: "=") { break }
            if s[j] == UInt8(ascii: "?") || s[j] == UInt8(ascii: "=") {
                j += 1
                continue
            }
            if isRFC822Special(s[j]) || CByteClass.isSpace(s[j]) { break }
            j += 1
        }
        guard j + 1 < n, s[j] == UInt8(ascii: "?"), s[j + 1] == UInt8(ascii: "=") else { return nil }
        return j + 2 - p
    }
}
