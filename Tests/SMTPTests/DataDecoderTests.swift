import Testing
@testable import SMTP

/// Decodes `input` in one piece and byte by byte; both must agree.
private func decode(_ input: String, sizeLimit: Int = 0) -> (stored: String, consumed: Int, finished: Bool) {
    let bytes = Array(input.utf8)
    var whole = DataDecoder(sizeLimit: sizeLimit)
    var out: [UInt8] = []
    let used = whole.decode(bytes[...], into: &out)
    var split = DataDecoder(sizeLimit: sizeLimit)
    var out2: [UInt8] = []
    var used2 = 0
    for index in bytes.indices where !split.isFinished {
        used2 += split.decode(bytes[index...index], into: &out2)
    }
    #expect(out == out2)
    #expect(used == used2)
    return (String(decoding: out, as: UTF8.self), used, whole.isFinished)
}

struct DataDecoderTests {
    /// Every SMTP-smuggling end-of-data look-alike: none may end the data, and the real end after it must.
    @Test(arguments: [
        ("a\n.\nMAIL FROM:<x@y.z>\r\n.\r\n", "a\n\nMAIL FROM:<x@y.z>\n"),      // LF . LF
        ("a\r.\rMAIL FROM:<x@y.z>\r\n.\r\n", "a\r.\rMAIL FROM:<x@y.z>\n"),    // CR . CR
        ("a\n.\r\nMAIL FROM:<x@y.z>\r\n.\r\n", "a\n\nMAIL FROM:<x@y.z>\n"),   // LF . CRLF
        ("a\r\n.\nMAIL FROM:<x@y.z>\r\n.\r\n", "a\n\nMAIL FROM:<x@y.z>\n"),   // CRLF . LF
        ("a\r\n.\rMAIL\r\n.\r\n", "a\n\rMAIL\n"),                              // CRLF . CR x
        ("a\r\n.\r\r\n.\r\n", "a\n\r\n"),                                      // CRLF . CR CR LF
        ("a\n\r\n.\r\n", "a\n\n"),                                             // LF CRLF . CRLF ends (real CRLF before dot)
        ("a\r\r\n.\r\n", "a\r\n"),                                             // CR CRLF . CRLF
        ("a\r\n\r.\r\n.\r\n", "a\n\r.\n"),                                     // CR . CRLF inside a line
    ])
    func smugglingVectors(input: String, stored: String) {
        let result = decode(input)
        #expect(result.finished)
        #expect(result.stored == stored)
        #expect(result.consumed == input.utf8.count)
    }

    @Test(arguments: [
        "a\n.\n", "a\r.\r", "a\n.\r\n", "a\r\n.\n", "\n.\n", "a\r\n.\r", "a\r\n. \r\n", "a\r\n..\r\n",
    ])
    func lookAlikesAloneNeverEnd(input: String) {
        #expect(!decode(input).finished)
    }

    @Test(arguments: [
        (".\r\n", ""),
        ("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\n\nbody\n"),
        ("..leading dot\r\n.\r\n", ".leading dot\n"),
        ("a\r\n..\r\n.\r\n", "a\n.\n"),
        ("bare\rcr\r\n.\r\n", "bare\rcr\n"),
        ("bare\nlf\r\n.\r\n", "bare\nlf\n"),
        ("no final newline.\r\n.\r\n", "no final newline.\n"),
    ])
    func decodes(input: String, stored: String) {
        let result = decode(input)
        #expect(result.finished)
        #expect(result.stored == stored)
    }

    @Test func stopsAtEndAndLeavesPipelinedCommands() {
        let input = Array("body\r\n.\r\nQUIT\r\n".utf8)
        var decoder = DataDecoder()
        var out: [UInt8] = []
        let used = decoder.decode(input[...], into: &out)
        #expect(used == 9)
        #expect(Array(input[used...]) == Array("QUIT\r\n".utf8))
    }

    @Test func sizeLimitStopsOutputButFindsEnd() {
        var decoder = DataDecoder(sizeLimit: 10)
        var out: [UInt8] = []
        _ = decoder.decode(Array("0123456789abcdef\r\n.\r\n".utf8)[...], into: &out)
        #expect(decoder.isFinished)
        #expect(out.count == 10)
        #expect(decoder.outcome.sizeExceeded)
        #expect(decoder.outcome.size == 17)
    }

    @Test func lineLimit() {
        var decoder = DataDecoder(sizeLimit: 0, lineLimit: 5)
        var out: [UInt8] = []
        _ = decoder.decode(Array("12345\r\n123456\r\n.\r\n".utf8)[...], into: &out)
        #expect(decoder.outcome.lineTooLong)
        var fine = DataDecoder(sizeLimit: 0, lineLimit: 5)
        _ = fine.decode(Array("12345\r\n.\r\n".utf8)[...], into: &out)
        #expect(!fine.outcome.lineTooLong)
    }

    @Test func randomInputNeverEndsWithoutTheRealSequence() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [13, 10, UInt8(ascii: "."), UInt8(ascii: "a")]
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            var decoder = DataDecoder(sizeLimit: 0)
            var out: [UInt8] = []
            let used = decoder.decode(bytes[...], into: &out)
            // It ends exactly where the first CRLF.CRLF (or start-of-data .CRLF) ends.
            let withStart = [13, 10] + bytes
            var expectedEnd: Int?
            if withStart.count >= 5 {
                for index in 0...(withStart.count - 5) where Array(withStart[index..<index + 5]) == [13, 10, 46, 13, 10] {
                    expectedEnd = index + 5 - 2
                    break
                }
            }
            #expect(decoder.isFinished == (expectedEnd != nil))
            if let expectedEnd { #expect(used == expectedEnd) }
            #expect(!out.contains(13) || bytes.contains(13))
        }
    }
}
