import Testing
@testable import MailCore

/// Courier's lenient quoted-printable decoder.
struct QuotedPrintableDecoderTests {
    @Test(arguments: [
        ("caf=E9\n", [0x63, 0x61, 0x66, 0xE9, 0x0A]),
        ("caf=e9\n", [0x63, 0x61, 0x66, 0xE9, 0x0A]),
        ("soft=\nbreak\n", Array("softbreak\n".utf8)),
        ("crlf soft=\r\nx\n", Array("crlf softx\n".utf8)),
        ("=ZZ\n", Array("ZZ\n".utf8)),
        ("=4Z\n", Array("Z\n".utf8)),
        ("a= trailing garbage\nb\n", Array("ab\n".utf8)),
        ("end=", Array("end".utf8)),
        ("=3D=3d\n", Array("==\n".utf8)),
    ] as [(String, [UInt8])])
    func decodes(_ input: String, _ expected: [UInt8]) {
        #expect(QuotedPrintableDecoder.decode(Array(input.utf8)) == expected)
    }

    @Test func longLinesAreDecodedInPiecesKeepingEscapesWhole() {
        let line = Array(String(repeating: "ab=3D", count: 400).utf8) + [0x0A]
        let out = QuotedPrintableDecoder.decode(line)
        #expect(out == Array(String(repeating: "ab=", count: 400).utf8) + [0x0A])
    }
}
