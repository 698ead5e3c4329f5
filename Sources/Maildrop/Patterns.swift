import MailTools

/// A line of the message as patterns see it.
struct SearchLine {
    var isHeader: Bool
    var isBody: Bool
    var text: String
    var bytes: [UInt8]
}

/// Parsed `:options,W1,W2` of a pattern (tools.md §1.7).
struct PatternOptions {
    var headers = false
    var body = false
    var caseSensitive = false
    var weights: (Double, Double)?

    init(_ text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let letters = parts.first.map(String.init) ?? ""
        for c in letters {
            switch c {
            case "h", "H": headers = true
            case "b": body = true
            case "D": caseSensitive = true
            default: break
            }
        }
        if !headers && !body {
            headers = true
            if letters.contains("w") { body = true }
        }
        if parts.count > 1 {
            let w1 = MaildropValue.number(String(parts[1]))
            let w2 = parts.count > 2 ? MaildropValue.number(String(parts[2])) : 1
            weights = (w1, w2)
        }
    }
}

extension MaildropInterpreter {
    static func firstMatch(_ re: Regex<AnyRegexOutput>, _ text: String) -> Regex<AnyRegexOutput>.Match? {
        (try? re.firstMatch(in: text)) ?? nil
    }

    /// Compiles (and caches) a PCRE-style pattern; nil when it is not a valid regex.
    func compile(_ source: String, caseless: Bool) -> Regex<AnyRegexOutput>? {
        let key = (caseless ? "i" : "c") + source
        if let cached = regexCache[key] { return cached }
        guard let re = try? Regex(source) else { return nil }
        let configured = re.ignoresCase(caseless).matchingSemantics(.unicodeScalar)
        if regexCache.count > 1000 { regexCache.removeAll() }
        regexCache[key] = configured
        return configured
    }

    /// The Swift `Regex` of a compiled pattern (cached by text); nil, with Courier's message,
    /// when it is not a valid regex.
    func regex(for pattern: CompiledPattern, line: Int) -> Regex<AnyRegexOutput>? {
        guard let re = compile(pattern.source, caseless: !pattern.options.caseSensitive) else {
            printError("Invalid regular expression, offset 0 of: \(pattern.source): syntax error\n")
            printError("\(currentFile)(\(line)): Syntax error in /pattern/.\n")
            return nil
        }
        return re
    }

    var messageLines: [SearchLine] {
        if let searchLines { return searchLines }
        let lines = SearchableText.lines(message).map {
            SearchLine(isHeader: $0.isHeader, isBody: $0.isBody, text: String(decoding: $0.text, as: UTF8.self),
                       bytes: Array($0.text))
        }
        searchLines = lines
        return lines
    }

    func setMatchVariables(_ m: Regex<AnyRegexOutput>.Match) {
        let output = m.output
        set("MATCH", String(output[0].substring ?? ""))
        if output.count > 1 {
            for i in 1..<output.count {
                set("MATCH\(i)", output[i].substring.map(String.init) ?? "")
            }
        }
    }

    /// MATCH and MATCH1… from a `SimplePattern` match in `text`.
    func setMatchVariables(_ m: SimplePattern.Match, in text: [UInt8]) {
        set("MATCH", String(decoding: text[m.whole], as: UTF8.self))
        for (n, group) in m.groups.enumerated() {
            set("MATCH\(n + 1)", group.map { String(decoding: text[$0], as: UTF8.self) } ?? "")
        }
    }

    /// The literal text an anchored pattern (`^Subject:`) requires at the start of a line,
    /// lowercased; empty when there is none. Lines without it cannot match, so most rules of
    /// a filter never compile their regex. Patterns with `|` anywhere get no prefix.
    static func requiredPrefix(_ source: String) -> [UInt8] {
        let bytes = Array(source.utf8)
        guard bytes.first == UInt8(ascii: "^"), !bytes.contains(UInt8(ascii: "|")) else { return [] }
        var prefix: [UInt8] = []
        for c in bytes.dropFirst() {
            let literal = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: ":") || c == UInt8(ascii: "_") || c == UInt8(ascii: "@")
            if literal {
                prefix.append(c >= 0x41 && c <= 0x5A ? c + 32 : c)
                continue
            }
            // A quantifier makes the character before it optional.
            if c == UInt8(ascii: "*") || c == UInt8(ascii: "?") || c == UInt8(ascii: "{") { prefix = prefix.dropLast() }
            break
        }
        return prefix
    }

    static func hasPrefix(_ text: [UInt8], _ prefix: [UInt8]) -> Bool {
        if prefix.isEmpty { return true }
        var i = 0
        for c in text {
            if i == prefix.count { return true }
            // Non-ASCII may case-fold to ASCII (K, ſ): let the regex decide.
            if c >= 0x80 { return true }
            if (c >= 0x41 && c <= 0x5A ? c + 32 : c) != prefix[i] { return false }
            i += 1
        }
        return i == prefix.count
    }

    /// A pattern that is only letters and digits (`/unsubscribe/`) must occur in the line as
    /// is (ASCII case-insensitively); lowercased, empty when the pattern is anything else.
    static func requiredText(_ source: String) -> [UInt8] {
        let bytes = Array(source.utf8)
        let plain = bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
        return plain ? bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 } : []
    }

    /// Whether `text` may contain `needle` (lowercase) ASCII case-insensitively; true when the
    /// text has non-ASCII bytes (they may case-fold to ASCII). Reads the line in place.
    static func mayContain(_ text: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        if text.contains(where: { $0 >= 0x80 }) { return true }
        guard text.count >= needle.count else { return false }
        return text.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { want in
                let first = want[0]
                for start in 0...(hay.count - want.count) {
                    let c = hay[start]
                    guard (c >= 0x41 && c <= 0x5A ? c + 32 : c) == first else { continue }
                    var k = 1
                    while k < want.count {
                        let d = hay[start + k]
                        if (d >= 0x41 && d <= 0x5A ? d + 32 : d) != want[k] { break }
                        k += 1
                    }
                    if k == want.count { return true }
                }
                return false
            }
        }
    }

    /// `/re/:opts` against the message: `1`/`0`, or the score when weighted.
    func matchMessage(_ pattern: MaildropPattern, line: Int) throws(MaildropInterruption) -> String {
        let compiled = compiled(pattern)
        let result = searchMessage(compiled, line: line)
        trace(4, line: line, "Search of \(compiled.source) = \(result)")
        return result
    }

    func searchMessage(_ compiled: CompiledPattern, line: Int) -> String {
        let options = compiled.options
        let tracing = verboseLevel >= 3
        // Most patterns need no Regex at all (a valid SimplePattern is also a valid regex);
        // the others compile theirs at the first line that can match.
        var regex: Regex<AnyRegexOutput>?
        var score = 0.0
        var factor = 1.0
        for l in messageLines where (l.isHeader && options.headers) || (l.isBody && options.body) {
            // Lines that cannot match are skipped unless every try is traced.
            if !tracing, !Self.hasPrefix(l.bytes, compiled.prefix) || !Self.mayContain(l.bytes, compiled.needle) { continue }
            if tracing { trace(3, "Matching /\(compiled.source)/ against \(l.text)") }
            switch compiled.simple?.firstMatch(l.bytes) ?? .unsupported {
            case .noMatch:
                trace(3, "Not matched.")
                continue
            case .match(let m):
                guard options.weights == nil else { break }
                setMatchVariables(m, in: l.bytes)
                return "1"
            case .unsupported:
                if regex == nil { regex = self.regex(for: compiled, line: line) }
                guard let re = regex else { return "0" }
                guard let m = Self.firstMatch(re, l.text) else {
                    trace(3, "Not matched.")
                    continue
                }
                guard options.weights == nil else { break }
                setMatchVariables(m)
                return "1"
            }
            guard let (w1, w2) = options.weights else { continue }
            score += w1 * factor
            factor *= w2
        }
        return options.weights == nil ? "0" : MaildropValue.format(score)
    }

    /// `expr =~ /re/:opts`: one match sets MATCH…; weighted counts every non-overlapping match.
    func matchString(_ text: String, _ pattern: MaildropPattern, line: Int) throws(MaildropInterruption) -> String {
        let compiled = compiled(pattern)
        trace(3, "Matching /\(compiled.source)/ against \(text)")
        let result = searchString(text, compiled, line: line)
        trace(4, line: line, "Search of \(compiled.source) = \(result)")
        return result
    }

    func searchString(_ text: String, _ compiled: CompiledPattern, line: Int) -> String {
        let options = compiled.options
        if options.weights == nil, let simple = compiled.simple {
            let bytes = Array(text.utf8)
            switch simple.firstMatch(bytes) {
            case .noMatch: return "0"
            case .match(let m):
                setMatchVariables(m, in: bytes)
                return "1"
            case .unsupported: break
            }
        }
        guard let re = regex(for: compiled, line: line) else { return "0" }
        guard let (w1, w2) = options.weights else {
            guard let m = Self.firstMatch(re, text) else { return "0" }
            setMatchVariables(m)
            return "1"
        }
        var score = 0.0
        var factor = 1.0
        for _ in text.matches(of: re) {
            score += w1 * factor
            factor *= w2
        }
        return MaildropValue.format(score)
    }

    /// The texts `foreach` iterates over: every matching line of the message, or every
    /// non-overlapping match in a string. 2.9.3 leaves MATCH1… at the last match's groups.
    func foreachMatches(_ target: MaildropExpr?, _ pattern: MaildropPattern, line: Int) throws(MaildropInterruption) -> [String] {
        let compiled = compiled(pattern)
        let options = compiled.options
        guard let re = regex(for: compiled, line: line) else { return [] }
        var found: [String] = []
        var last: Regex<AnyRegexOutput>.Match?
        if let target {
            let text = try evaluate(target, line: line)
            trace(3, "Matching /\(compiled.source)/ against \(text)")
            for m in text.matches(of: re) {
                found.append(String(m.output[0].substring ?? ""))
                last = m
            }
        } else {
            for l in messageLines where (l.isHeader && options.headers) || (l.isBody && options.body) {
                trace(3, "Matching /\(compiled.source)/ against \(l.text)")
                if let m = Self.firstMatch(re, l.text) {
                    found.append(String(m.output[0].substring ?? ""))
                    last = m
                } else {
                    trace(3, "Not matched.")
                }
            }
        }
        if let last, last.output.count > 1 {
            for i in 1..<last.output.count {
                set("MATCH\(i)", last.output[i].substring.map(String.init) ?? "")
            }
        }
        trace(4, line: line, "Search of \(compiled.source) = \(found.count)")
        return found
    }
}
