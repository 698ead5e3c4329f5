import Testing
import MailCore

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct Base64EncoderTests {
    @Test(arguments: [
        ("", ""),
        ("a", "YQ==\n"),
        ("ab", "YWI=\n"),
        ("abc", "YWJj\n"),
        ("Plain text part.\n", "UGxhaW4gdGV4dCBwYXJ0Lgo=\n"),
    ])
    func shortInputs(input: String, expected: String) {
        #expect(Base64Encoder.encode(bytes(input)) == bytes(expected))
    }

    @Test func fiftySevenBytesMakeOneFullLine() {
        let output = Base64Encoder.encode([UInt8](repeating: UInt8(ascii: "A"), count: 57))
        #expect(output == bytes(String(repeating: "QUFB", count: 19) + "\n"))
    }

    @Test func linesHoldSeventySixCharacters() {
        let output = Base64Encoder.encode([UInt8](repeating: 0xFF, count: 58))
        let lines = output.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        #expect(lines.map(\.count) == [76, 4, 0])
        #expect(Array(lines[1]) == bytes("/w=="))
    }

    @Test func allByteValues() {
        let output = Base64Encoder.encode(Array(0...255))
        let expectedStart = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n"
        #expect(Array(output.prefix(77)) == bytes(expectedStart))
        #expect(output.suffix(6) == bytes("/P3+/w==\n").suffix(6))
    }

    @Test func chunkingDoesNotChangeTheOutput() {
        let input = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = Base64Encoder.encode(input)
        for chunkSize in [1, 2, 3, 56, 57, 58, 100] {
            var encoder = Base64Encoder()
            var output: [UInt8] = []
            var start = 0
            while start < input.count {
                let end = min(start + chunkSize, input.count)
                encoder.encode(Array(input[start..<end]), into: &output)
                start = end
            }
            encoder.finish(into: &output)
            #expect(output == whole, "chunk size \(chunkSize)")
        }
    }

    @Test func transferEncoderPassesSevenAndEightBitThrough() {
        let input = bytes("caf\u{E9}\r\n \n")
        for kind in [TransferEncodingKind.sevenBit, .eightBit] {
            var encoder = TransferEncoder(kind)
            var output: [UInt8] = []
            encoder.encode(input, into: &output)
            encoder.finish(into: &output)
            #expect(output == input)
        }
    }
}
