import Testing
import MailCore

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct QuotedPrintableEncoderTests {
    @Test(arguments: [
        ("", ""),
        ("plain\n", "plain\n"),
        ("no final newline", "no final newline"),
        ("a=b\n", "a=3Db\n"),
        ("tab\there\n", "tab=09here\n"),
        ("crlf\r\n", "crlf=0D\n"),
        ("del\u{7F}\n", "del=7F\n"),
        ("space before newline \n", "space before newline=20\n"),
        ("two spaces  \n", "two spaces =20\n"),
        ("trailing space at end ", "trailing space at end"),
        ("a \n b  \nc ", "a=20\n b =20\nc"),
        ("tilde~ok\n", "tilde~ok\n"),
    ])
    func encodes(input: String, expected: String) {
        #expect(QuotedPrintableEncoder.encode(bytes(input)) == bytes(expected))
    }

    @Test func highBytesUseUpperCaseHex() {
        #expect(QuotedPrintableEncoder.encode([0x63, 0x61, 0x66, 0xE9, 0x0A, 0x00, 0xFF]) == bytes("caf=E9\n=00=FF"))
    }

    @Test func softBreakAfterMoreThanSeventyTwoColumns() {
        let line = String(repeating: "x", count: 100) + "\n"
        let expected = String(repeating: "x", count: 73) + "=\n" + String(repeating: "x", count: 27) + "\n"
        #expect(QuotedPrintableEncoder.encode(bytes(line)) == bytes(expected))
    }

    @Test func seventyThreeCharactersFitOnOneLine() {
        let line = String(repeating: "y", count: 73) + "\n"
        #expect(QuotedPrintableEncoder.encode(bytes(line)) == bytes(line))
    }

    @Test func escapesCountThreeColumns() {
        // 24 escapes = 72 columns, the 25th starts at column 72 (not > 72): no break yet.
        let input = [UInt8](repeating: 0xE9, count: 26)
        let expected = String(repeating: "=E9", count: 25) + "=\n=E9"
        #expect(QuotedPrintableEncoder.encode(input) == bytes(expected))
    }

    @Test func runsOfSpacesAreNotBroken() {
        // A held-back space never triggers the soft break; the next other byte does.
        let input = String(repeating: " ", count: 80) + "x\n"
        let expected = String(repeating: " ", count: 80) + "=\nx\n"
        #expect(QuotedPrintableEncoder.encode(bytes(input)) == bytes(expected))
    }

    @Test func spaceHeldAcrossChunks() {
        var encoder = QuotedPrintableEncoder()
        var output: [UInt8] = []
        encoder.encode(bytes("a "), into: &output)
        #expect(output == bytes("a"))
        encoder.encode(bytes("\nb "), into: &output)
        encoder.encode(bytes("c"), into: &output)
        encoder.finish(into: &output)
        #expect(output == bytes("a=20\nb c"))
    }

    @Test func chunkingDoesNotChangeTheOutput() {
        var input: [UInt8] = []
        for index in 0..<3000 {
            input.append(UInt8(truncatingIfNeeded: index % 7 == 0 ? 0x20 : (index % 97 == 0 ? 0x0A : index)))
        }
        let whole = QuotedPrintableEncoder.encode(input)
        for chunkSize in [1, 2, 7, 64, 4096] {
            var encoder = QuotedPrintableEncoder()
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
}

@Suite struct TransferEncodingDetectorTests {
    private static func line(_ count: Int, _ byte: UInt8 = UInt8(ascii: "x")) -> [UInt8] {
        [UInt8](repeating: byte, count: count) + [0x0A]
    }

    @Test func emptyIsSevenBit() {
        let result = TransferEncodingDetector.detect([])
        #expect(result.encoding == .sevenBit && !result.isBinary)
    }

    @Test func controlWhitespaceIsSevenBit() {
        #expect(TransferEncodingDetector.detect(Array("a\tb\r\n".utf8)).encoding == .sevenBit)
    }

    @Test func highOrControlBytesAreEightBit() {
        #expect(TransferEncodingDetector.detect([0x63, 0xE9, 0x0A]).encoding == .eightBit)
        #expect(TransferEncodingDetector.detect([0x63, 0x1B, 0x0A]).encoding == .eightBit)
    }

    @Test func nulMeansBinaryBase64() {
        let result = TransferEncodingDetector.detect([0x61, 0x00, 0x62])
        #expect(result.encoding == .base64 && result.isBinary)
    }

    @Test func lineOfNineHundredNinetyColumnsIsNotLong() {
        #expect(TransferEncodingDetector.detect(Self.line(990)).encoding == .sevenBit)
        #expect(TransferEncodingDetector.detect(Self.line(991)).encoding == .quotedPrintable)
    }

    @Test func eightBitBytesCountThreeColumns() {
        // 330 × 3 = 990 columns: not long; 331 × 3 = 993: long, and all bytes 8-bit.
        #expect(TransferEncodingDetector.detect(Self.line(330, 0xE9)).encoding == .eightBit)
        #expect(TransferEncodingDetector.detect(Self.line(331, 0xE9)).encoding == .base64)
    }

    @Test func longLineWithFewEightBitBytesIsQuotedPrintable() {
        // 100 of 1101 bytes are 8-bit: not more than a tenth (110).
        let input = [UInt8](repeating: 0xE9, count: 100) + Self.line(1000)
        let result = TransferEncodingDetector.detect(input)
        #expect(result.encoding == .quotedPrintable && !result.isBinary)
    }

    @Test func preferSevenBit() {
        #expect(TransferEncodingDetector.detect(Array("hello\n".utf8), preferSevenBit: true).encoding == .quotedPrintable)
        #expect(TransferEncodingDetector.detect([0xE9, 0xE9, 0x0A], preferSevenBit: true).encoding == .base64)
    }
}
