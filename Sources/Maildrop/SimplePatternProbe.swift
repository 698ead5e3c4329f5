/// The differential check of `SimplePattern` against Swift `Regex` (configured as maildrop
/// compiles patterns: caseless unless `D`, Unicode scalar semantics) on one pattern and one
/// text: the fuzz target `FuzzSimplePattern` and the unit tests run it. On a pattern of the
/// subset the two must agree on whether the text matches, on MATCH and on every MATCHn.
public enum SimplePatternProbe {
    public enum Verdict: Equatable, Sendable {
        /// The pattern is not of the subset: Regex handles it, nothing to compare.
        case notInSubset
        /// SimplePattern declined the text (non-ASCII, control bytes, too long, too many steps).
        case declined
        /// Both say no match.
        case bothMiss
        /// Both matched the same text with the same groups.
        case sameMatch
        /// A disagreement (a bug): what differed.
        case disagree(String)
    }

    /// The fuzz input format: one flag byte (bit 0: case-sensitive, as the `D` option), the
    /// pattern up to the first newline, then the text; pattern and text are cut to 48 and 96
    /// bytes so that Regex's own backtracking stays quick. nil for an empty input.
    public static func decodeFuzzInput(_ bytes: [UInt8]) -> (pattern: String, text: String, caseless: Bool)? {
        guard let flags = bytes.first else { return nil }
        let rest = bytes.dropFirst()
        let newline = rest.firstIndex(of: 0x0A) ?? rest.endIndex
        let pattern = String(decoding: rest[rest.startIndex..<newline].prefix(48), as: UTF8.self)
        let text = String(decoding: rest[min(newline + 1, rest.endIndex)...].prefix(96), as: UTF8.self)
        return (pattern, text, flags & 1 == 0)
    }

    public static func compare(pattern: String, text: String, caseless: Bool) -> Verdict {
        guard let simple = SimplePattern(pattern, caseless: caseless) else { return .notInSubset }
        guard let compiled = try? Regex(pattern) else { return .disagree("accepted a pattern Regex rejects") }
        let re = compiled.ignoresCase(caseless).matchingSemantics(.unicodeScalar)
        let bytes = Array(text.utf8)
        let outcome = simple.firstMatch(bytes)
        // Regex runs only when SimplePattern answered: a pattern it gives up on after its step
        // limit (`.*.*(|x|…).*` on a long line) can keep Regex busy for seconds.
        if case .unsupported = outcome { return .declined }
        let expected = (try? re.firstMatch(in: text)) ?? nil
        switch outcome {
        case .unsupported:
            return .declined
        case .noMatch:
            return expected == nil ? .bothMiss : .disagree("SimplePattern found no match, Regex did")
        case .match(let m):
            guard let expected else { return .disagree("SimplePattern matched, Regex did not") }
            let out = expected.output
            var ours: [String?] = [String(decoding: bytes[m.whole], as: UTF8.self)]
            ours += m.groups.map { g in g.map { String(decoding: bytes[$0], as: UTF8.self) } }
            let theirs = (0..<out.count).map { out[$0].substring.map(String.init) }
            return ours == theirs ? .sameMatch : .disagree("MATCH/MATCHn differ: \(ours) vs \(theirs)")
        }
    }
}
