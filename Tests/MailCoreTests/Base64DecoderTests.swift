import Testing
@testable import MailCore

/// Courier's lenient base64 body decoder.
struct Base64DecoderTests {
    @Test(arguments: [
        ("SGVsbG8=", "Hello"),
        ("SGVs\nbG8h", "Hello!"),
        ("SG Vs!b*G8h", "Hello!"),
        ("QQ==", "A"),
        ("QUI=", "AB"),
        ("QUJD", "ABC"),
        ("QUJDR", "ABC"),         // incomplete quantum dropped
        ("", ""),
    ])
    func decodes(_ input: String, _ expected: String) {
        #expect(Base64Decoder.decode(Array(input.utf8)) == Array(expected.utf8))
    }

    @Test func misplacedPaddingGivesGarbageBytes() {
        // '=' counts as 99 in the arithmetic: "====" gives one byte, (99<<2)|(99>>4);
        // "Q=Q=" gives two (the third character is not '='). Checked against Debian's reformime.
        #expect(Base64Decoder.decode(Array("====".utf8)) == [142])
        #expect(Base64Decoder.decode(Array("Q=Q=".utf8)) == [70, 52])
    }

    @Test func streamingMatchesWholeBuffer() {
        let text = Array("VGhlIHF1aWNrIGJyb3duIGZveA==\nanVtcHM=".utf8)
        var d = Base64Decoder()
        var out: [UInt8] = []
        for b in text { d.decode([b], into: &out) }
        d.finish(into: &out)
        #expect(out == Base64Decoder.decode(text))
    }
}
