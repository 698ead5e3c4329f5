/// A maildrop pattern of the common shapes, matched over ASCII text without compiling a Swift
/// `Regex` (compiling one costs more than a whole delivery's other work). The subset: literal
/// characters and `\`-escaped punctuation, `.`, simple `[...]` classes, greedy `*` `+` `?` on one
/// character, capturing `(a|b)` groups, top-level `|`, a leading `^` and a trailing `$`.
/// It searches as PCRE and Swift `Regex` do (leftmost start, first alternative first, greedy,
/// backtracking), so it finds the same match and the same groups. `init` returns nil for any
/// other pattern, and `firstMatch` answers `.unsupported` for text it cannot judge exactly
/// (non-ASCII or control characters, very long text, too many backtracking steps): the caller
/// then uses `Regex`.
struct SimplePattern {
    /// One instruction of the backtracking program.
    enum Op {
        /// One character of the class, `min`…`max` times, greedy.
        case chars(ByteClass, min: Int, max: Int)
        /// Try `first`, then `second`.
        case split(Int, Int)
        case jump(Int)
        /// Records the position in capture slot `n`.
        case save(Int)
        /// `$`: only at the end of the text.
        case atEnd
        case match
    }

    /// Where a match and its groups are (byte offsets into the text).
    struct Match {
        var whole: Range<Int>
        /// MATCH1…: nil for a group that took no part in the match.
        var groups: [Range<Int>?]
    }

    enum Outcome {
        case match(Match)
        case noMatch
        case unsupported
    }

    let program: [Op]
    let anchored: Bool
    let groupCount: Int
    static let maxTextLength = 64 * 1024
    static let maxSteps = 100_000

    init?(_ source: String, caseless: Bool) {
        var parser = SimplePatternParser(Array(source.utf8), caseless: caseless)
        guard let parsed = parser.parse() else { return nil }
        program = parsed.program
        anchored = parsed.anchored
        groupCount = parsed.groups
    }

    /// Bytes the text may hold: printable ASCII and tab.
    static func supported(_ c: UInt8) -> Bool { (c >= 0x20 && c < 0x7F) || c == 0x09 }

    func firstMatch(_ text: [UInt8]) -> Outcome {
        guard text.count <= Self.maxTextLength, text.allSatisfy(Self.supported) else { return .unsupported }
        var run = SimplePatternRun(program: program, text: text, slots: 2 * groupCount)
        for start in 0...text.count {
            if let end = run.attempt(from: start) {
                var groups: [Range<Int>?] = []
                for g in 0..<groupCount {
                    let s = run.caps[2 * g], e = run.caps[2 * g + 1]
                    groups.append(s >= 0 && e >= s ? s..<e : nil)
                }
                return .match(Match(whole: start..<end, groups: groups))
            }
            if run.exhausted { return .unsupported }
            if anchored { break }
        }
        return .noMatch
    }
}

/// A set of ASCII bytes.
struct ByteClass {
    var low: UInt64 = 0
    var high: UInt64 = 0

    func contains(_ c: UInt8) -> Bool {
        c < 64 ? low & (1 << UInt64(c)) != 0 : c < 128 ? high & (1 << UInt64(c - 64)) != 0 : false
    }

    mutating func insert(_ c: UInt8) {
        if c < 64 { low |= 1 << UInt64(c) } else if c < 128 { high |= 1 << UInt64(c - 64) }
    }

    /// `c`, and its other case when `caseless` (ASCII only: the text is ASCII).
    mutating func insert(_ c: UInt8, caseless: Bool) {
        insert(c)
        guard caseless else { return }
        if c >= 0x41 && c <= 0x5A { insert(c + 32) } else if c >= 0x61 && c <= 0x7A { insert(c - 32) }
    }

    var inverted: ByteClass { ByteClass(low: ~low, high: ~high) }

    /// `.`: any character but the line breaks.
    static var dot: ByteClass {
        var all = ByteClass(low: ~0, high: ~0)
        for c: UInt8 in [0x0A, 0x0B, 0x0C, 0x0D] { all.low &= ~(1 << UInt64(c)) }
        return all
    }
}

/// One search of a `SimplePattern` program over a text, with a step budget.
struct SimplePatternRun {
    let program: [SimplePattern.Op]
    let text: [UInt8]
    var caps: [Int]
    var steps = 0
    var exhausted = false

    init(program: [SimplePattern.Op], text: [UInt8], slots: Int) {
        self.program = program
        self.text = text
        self.caps = Array(repeating: -1, count: slots)
    }

    /// The end of a match starting at `start`, if any.
    mutating func attempt(from start: Int) -> Int? {
        for i in caps.indices { caps[i] = -1 }
        return run(0, start)
    }

    private mutating func run(_ startPC: Int, _ startPos: Int) -> Int? {
        var pc = startPC, pos = startPos
        while pc < program.count {
            steps += 1
            if steps > SimplePattern.maxSteps { exhausted = true }
            if exhausted { return nil }
            switch program[pc] {
            case .chars(let cls, let min, let max):
                var k = 0
                while k < max, pos + k < text.count, cls.contains(text[pos + k]) { k += 1 }
                if k < min { return nil }
                if min == max { pos += k; pc += 1; continue }
                while k >= min {
                    if let end = run(pc + 1, pos + k) { return end }
                    if exhausted { return nil }
                    k -= 1
                }
                return nil
            case .split(let first, let second):
                if let end = run(first, pos) { return end }
                if exhausted { return nil }
                pc = second
            case .jump(let to):
                pc = to
            case .save(let slot):
                let old = caps[slot]
                caps[slot] = pos
                if let end = run(pc + 1, pos) { return end }
                caps[slot] = old
                return nil
            case .atEnd:
                if pos != text.count { return nil }
                pc += 1
            case .match:
                return pos
            }
        }
        return nil
    }
}
