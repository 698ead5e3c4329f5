/// Parses the `SimplePattern` subset and compiles it to a backtracking program; nil for any
/// pattern outside the subset (the caller then compiles a Swift `Regex`, which also reports
/// syntax errors). Conservative: whatever it accepts, `Regex` reads the same way.
struct SimplePatternParser {
    indirect enum Item {
        case chars(ByteClass, min: Int, max: Int)
        /// A capturing group (number from 1) of alternatives.
        case group(Int, [[Item]])
    }

    let bytes: [UInt8]
    let caseless: Bool
    var i = 0
    var groups = 0
    static let maxDepth = 4
    static let maxGroups = 9

    init(_ bytes: [UInt8], caseless: Bool) {
        self.bytes = bytes
        self.caseless = caseless
    }

    mutating func parse() -> (program: [SimplePattern.Op], anchored: Bool, groups: Int)? {
        guard !bytes.isEmpty, bytes.count <= 256, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        var anchored = false
        if bytes[0] == UInt8(ascii: "^") { anchored = true; i = 1 }
        var atEnd = false
        var body = bytes
        if body.count > i, body.last == UInt8(ascii: "$"), !Self.escaped(body, body.count - 1) {
            atEnd = true
            body.removeLast()
        }
        var inner = SimplePatternParser(body, caseless: caseless)
        inner.i = i
        guard let alternatives = inner.alternatives(depth: 0), inner.i == body.count else { return nil }
        // An anchor applies to the first top-level alternative only: keep such patterns for Regex.
        if alternatives.count > 1 && (anchored || atEnd) { return nil }
        var program: [SimplePattern.Op] = []
        Self.emit(alternatives, into: &program)
        if atEnd { program.append(.atEnd) }
        program.append(.match)
        return (program, anchored, inner.groups)
    }

    /// Whether the byte at `index` follows an odd run of backslashes.
    static func escaped(_ b: [UInt8], _ index: Int) -> Bool {
        var n = 0, k = index - 1
        while k >= 0, b[k] == UInt8(ascii: "\\") { n += 1; k -= 1 }
        return n % 2 == 1
    }

    static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    mutating func alternatives(depth: Int) -> [[Item]]? {
        var result: [[Item]] = []
        while true {
            guard let seq = sequence(depth: depth) else { return nil }
            result.append(seq)
            guard i < bytes.count, bytes[i] == UInt8(ascii: "|") else { return result }
            i += 1
        }
    }

    mutating func sequence(depth: Int) -> [Item]? {
        var items: [Item] = []
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "|") || c == UInt8(ascii: ")") { break }
            var cls = ByteClass()
            switch c {
            case UInt8(ascii: "("):
                guard depth < Self.maxDepth, groups < Self.maxGroups, i + 1 < bytes.count,
                      bytes[i + 1] != UInt8(ascii: "?") else { return nil }
                i += 1
                groups += 1
                let number = groups
                guard let alts = alternatives(depth: depth + 1), i < bytes.count,
                      bytes[i] == UInt8(ascii: ")") else { return nil }
                i += 1
                if i < bytes.count, Self.isQuantifier(bytes[i]) { return nil }
                items.append(.group(number, alts))
                continue
            case UInt8(ascii: "["):
                guard let parsed = charClass() else { return nil }
                cls = parsed
            case UInt8(ascii: "."):
                cls = .dot
                i += 1
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count, Self.escapable(bytes[i + 1]) else { return nil }
                cls.insert(bytes[i + 1], caseless: caseless)
                i += 2
            case UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"),
                 UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                return nil
            default:
                cls.insert(c, caseless: caseless)
                i += 1
            }
            var min = 1, max = 1
            if i < bytes.count, Self.isQuantifier(bytes[i]) {
                switch bytes[i] {
                case UInt8(ascii: "*"): min = 0; max = Int.max
                case UInt8(ascii: "+"): min = 1; max = Int.max
                default: min = 0; max = 1
                }
                i += 1
                // Lazy, possessive or stacked quantifiers, and `{n,m}`: leave to Regex.
                if i < bytes.count, Self.isQuantifier(bytes[i]) || bytes[i] == UInt8(ascii: "{") { return nil }
            }
            items.append(.chars(cls, min: min, max: max))
        }
        return items
    }

    /// Punctuation a backslash makes literal, in PCRE and in Swift's regex syntax alike.
    static func escapable(_ c: UInt8) -> Bool { escapableSet.contains(c) }

    static let escapableSet: ByteClass = {
        var set = ByteClass()
        for c in #"./\-@[](){}*+?|^$:!#%,;=_'"<> "#.utf8 { set.insert(c) }
        return set
    }()

    static func isQuantifier(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "*") || c == UInt8(ascii: "+") || c == UInt8(ascii: "?")
    }

    /// `[abc]`, `[a-z0-9_]`, `[^...]` of plain characters; nil for POSIX classes, `\d`-style
    /// escapes, set operators (`&&`, `--`, `~~` in Swift's syntax) and odd ranges.
    mutating func charClass() -> ByteClass? {
        i += 1
        // `[:`, `[.`, `[=` open POSIX bracket syntax (`[:alpha:]`): Swift's Regex rejects
        // `[::]` and `[:a:]`, PCRE rejects them outside a class. Leave such classes to Regex.
        // (Found by FuzzSimplePattern.)
        if i < bytes.count, bytes[i] == UInt8(ascii: ":") || bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "=") {
            return nil
        }
        var negated = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "^") { negated = true; i += 1 }
        var cls = ByteClass()
        var count = 0
        var hasLetter = false
        while i < bytes.count, bytes[i] != UInt8(ascii: "]") {
            var c = bytes[i]
            if c == UInt8(ascii: "[") || c == UInt8(ascii: "&") || c == UInt8(ascii: "~") { return nil }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count, Self.escapable(bytes[i + 1]) else { return nil }
                c = bytes[i + 1]
                i += 2
            } else if c == UInt8(ascii: "-") {
                // `--` is set subtraction in Swift's syntax (Regex rejects `[--]`; found by
                // FuzzSimplePattern): leave it to Regex.
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "-") { return nil }
                // A literal `-` only first or last.
                guard count == 0 || (i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "]")) else { return nil }
                i += 1
            } else {
                i += 1
            }
            if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] != UInt8(ascii: "]") {
                let hi = bytes[i + 1]
                guard Self.sameRangeKind(c, hi), c <= hi else { return nil }
                i += 2
                for x in c...hi { cls.insert(x, caseless: caseless) }
                hasLetter = hasLetter || !(c >= 0x30 && c <= 0x39)
            } else {
                cls.insert(c, caseless: caseless)
                hasLetter = hasLetter || (Self.isAlnum(c) && !(c >= 0x30 && c <= 0x39))
            }
            count += 1
        }
        guard i < bytes.count, count > 0 else { return nil }
        i += 1
        if negated {
            // How a caseless engine folds a negated class is a detail we do not guess at.
            if caseless && hasLetter { return nil }
            return cls.inverted
        }
        return cls
    }

    /// Ranges we accept: digit to digit, lower to lower, upper to upper.
    static func sameRangeKind(_ a: UInt8, _ b: UInt8) -> Bool {
        func kind(_ c: UInt8) -> Int {
            if c >= 0x30 && c <= 0x39 { return 1 }
            if c >= 0x61 && c <= 0x7A { return 2 }
            if c >= 0x41 && c <= 0x5A { return 3 }
            return 0
        }
        return kind(a) != 0 && kind(a) == kind(b)
    }

    static func emit(_ alternatives: [[Item]], into program: inout [SimplePattern.Op]) {
        var jumpsToEnd: [Int] = []
        for (n, alt) in alternatives.enumerated() {
            let last = n == alternatives.count - 1
            var split = -1
            if !last {
                split = program.count
                program.append(.split(0, 0))
            }
            for item in alt { emit(item, into: &program) }
            if !last {
                jumpsToEnd.append(program.count)
                program.append(.jump(0))
                program[split] = .split(split + 1, program.count)
            }
        }
        for j in jumpsToEnd { program[j] = .jump(program.count) }
    }

    static func emit(_ item: Item, into program: inout [SimplePattern.Op]) {
        switch item {
        case .chars(let cls, let min, let max):
            program.append(.chars(cls, min: min, max: max))
        case .group(let number, let alts):
            program.append(.save(2 * (number - 1)))
            emit(alts, into: &program)
            program.append(.save(2 * (number - 1) + 1))
        }
    }
}
