import Testing
@testable import Maildrop

/// FuzzSimplePattern's generated mode, run here on a fixed pseudo-random stream: SimplePattern
/// and Swift Regex agree on every generated pattern and text, and the generator does produce
/// matches with captures (else the mode would compare nothing).
@Suite struct SimplePatternGeneratorTests {
    @Test func generatedPatternsAgreeWithRegex() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextByte() -> UInt8 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        var matches = 0, withGroups = 0, misses = 0
        for n in 0..<3000 {
            var input: [UInt8] = [0x80 | UInt8(n & 1)]
            for _ in 0..<40 { input.append(nextByte()) }
            guard let (pattern, text, caseless) = SimplePatternProbe.decodeEitherMode(input) else {
                Issue.record("no pattern from \(input)")
                continue
            }
            switch SimplePatternProbe.compare(pattern: pattern, text: text, caseless: caseless) {
            case .disagree(let why):
                Issue.record("/\(pattern)/ on '\(text)': \(why)")
            case .sameMatch:
                matches += 1
                if pattern.contains("(") { withGroups += 1 }
            case .bothMiss:
                misses += 1
            case .notInSubset, .declined:
                break
            }
        }
        #expect(matches > 400)
        #expect(withGroups > 60)
        #expect(misses > 50)
    }

    @Test func generatedInputsAreDeterministic() {
        let input: [UInt8] = [0x81, 7, 3, 9, 200, 14, 5, 6, 77, 1, 2, 3]
        #expect(SimplePatternGenerator.decode(input)?.pattern == SimplePatternGenerator.decode(input)?.pattern)
        #expect(SimplePatternGenerator.decode(input)?.caseless == false)
        #expect(SimplePatternGenerator.decode([]) == nil)
    }
}
