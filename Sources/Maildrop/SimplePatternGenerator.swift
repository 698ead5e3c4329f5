/// Builds a pattern of (mostly) SimplePattern's subset and a text likely to match it from a
/// fuzzer's bytes, read as a stream of choices: the second mode of `FuzzSimplePattern` (flag
/// bit 7). Random bytes rarely form a pattern that matches random text; here the pattern is
/// grown from a grammar (literals, escaped punctuation, `.`, classes and ranges, negated
/// classes, nested `(a|b)` groups, `* + ? {m,n}` quantifiers, `^`, `$`, top-level `|`) over a
/// small alphabet, and the text is drawn from the same alphabet, often with a piece that the
/// pattern describes, so that matches, captures and backtracking get compared with `Regex`.
public struct SimplePatternGenerator {
    private var bytes: ArraySlice<UInt8>
    private var groups = 0

    /// Letters in both cases (caseless matching), punctuation that needs escaping, a space.
    static let alphabet: [UInt8] = Array("abcAB-x :.()*+?|[]\\".utf8)
    static let literals: [UInt8] = Array("abcABx- :".utf8)
    static let escapable: [UInt8] = Array(".-()[]*+?|\\/:".utf8)

    private init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// (pattern, text, caseless) from a fuzz input whose first byte is the flag byte.
    public static func decode(_ input: [UInt8]) -> (pattern: String, text: String, caseless: Bool)? {
        guard let flags = input.first else { return nil }
        var g = SimplePatternGenerator(input.dropFirst())
        var pattern: [UInt8] = []
        if g.next() % 4 == 0 { pattern.append(UInt8(ascii: "^")) }
        g.alternatives(into: &pattern, depth: 0, top: true)
        if g.next() % 4 == 0 { pattern.append(UInt8(ascii: "$")) }
        let text = g.text(for: pattern)
        return (String(decoding: pattern.prefix(64), as: UTF8.self), String(decoding: text.prefix(128), as: UTF8.self),
                flags & 1 == 0)
    }

    private mutating func next() -> UInt8 {
        guard let b = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return b
    }

    private mutating func pick(_ from: [UInt8]) -> UInt8 {
        from[Int(next()) % from.count]
    }

    private mutating func alternatives(into p: inout [UInt8], depth: Int, top: Bool = false) {
        let count = 1 + Int(next() % (top ? 2 : 3))
        for k in 0..<count {
            if k > 0 { p.append(UInt8(ascii: "|")) }
            sequence(into: &p, depth: depth)
        }
    }

    private mutating func sequence(into p: inout [UInt8], depth: Int) {
        let atoms = Int(next() % 6)
        for _ in 0..<atoms { atom(into: &p, depth: depth) }
    }

    private mutating func atom(into p: inout [UInt8], depth: Int) {
        var quantifiable = true
        switch next() % 9 {
        case 0, 1, 2: p.append(pick(Self.literals))
        case 3: p += [UInt8(ascii: "\\"), pick(Self.escapable)]
        case 4: p.append(UInt8(ascii: "."))
        case 5, 6: charClass(into: &p)
        default:
            if depth < 3 && groups < 9 {
                groups += 1
                p.append(UInt8(ascii: "("))
                alternatives(into: &p, depth: depth + 1)
                p.append(UInt8(ascii: ")"))
                // A quantified group is outside the subset: rarely, so that Regex is asked anyway.
                quantifiable = next() % 8 == 0
            } else {
                p.append(pick(Self.literals))
            }
        }
        guard quantifiable else { return }
        switch next() % 10 {
        case 0, 1: p.append(UInt8(ascii: "*"))
        case 2: p.append(UInt8(ascii: "+"))
        case 3: p.append(UInt8(ascii: "?"))
        case 4:
            let low = next() % 3
            let high = low + next() % 3
            p += Array("{\(low),\(high)}".utf8)
        default: break
        }
    }

    private mutating func charClass(into p: inout [UInt8]) {
        p.append(UInt8(ascii: "["))
        if next() % 4 == 0 { p.append(UInt8(ascii: "^")) }
        let items = 1 + Int(next() % 3)
        for _ in 0..<items {
            switch next() % 4 {
            case 0: p += Array("a-c".utf8)
            case 1: p += Array("A-Z".utf8)
            case 2: p += [UInt8(ascii: "\\"), pick(Array("-]\\.".utf8))]
            default: p.append(pick(Array("abxAB :.".utf8)))
            }
        }
        p.append(UInt8(ascii: "]"))
    }

    /// Up to 48 characters of the alphabet; half the time with the pattern's own literal
    /// characters (escapes and syntax removed) spliced in.
    private mutating func text(for pattern: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        let length = Int(next() % 48)
        for _ in 0..<length { out.append(pick(Self.alphabet)) }
        if next() % 2 == 0 {
            let syntax = Array("^$()[]|*+?{}".utf8)
            var literal: [UInt8] = []
            var escaped = false
            for c in pattern {
                if escaped { literal.append(c); escaped = false; continue }
                if c == UInt8(ascii: "\\") { escaped = true; continue }
                if !syntax.contains(c) { literal.append(c) }
            }
            let at = out.isEmpty ? 0 : Int(next()) % (out.count + 1)
            out.insert(contentsOf: literal, at: at)
        }
        return out
    }
}

extension SimplePatternProbe {
    /// A fuzz input of either mode: flag bit 7 set, SimplePatternGenerator's choices; else
    /// `decodeFuzzInput`'s pattern line and text.
    public static func decodeEitherMode(_ bytes: [UInt8]) -> (pattern: String, text: String, caseless: Bool)? {
        (bytes.first ?? 0) & 0x80 != 0 ? SimplePatternGenerator.decode(bytes) : decodeFuzzInput(bytes)
    }
}
