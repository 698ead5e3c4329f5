import Testing
@testable import MailCore

/// iconv-based conversion with Courier's error handling.
struct CharsetTests {
    @Test(arguments: [
        ("ISO-8859-1", [0x63, 0x61, 0x66, 0xE9] as [UInt8], "café"),
        ("windows-1252", [0x80], "€"),
        ("KOI8-R", [0xF0, 0xD2, 0xC9], "При"),
        ("ISO-2022-JP", [0x1B, 0x24, 0x42, 0x24, 0x46, 0x1B, 0x28, 0x42], "て"),
        ("iso-8859-15", [0xA4], "€"),
    ])
    func convertsToUTF8(_ charset: String, _ input: [UInt8], _ expected: String) {
        let r = CharsetConverter.convert(input, from: charset, to: "UTF-8")
        #expect(r == CharsetConverter.Result(bytes: Array(expected.utf8), hadErrors: false))
    }

    @Test func invalidBytesAreSkippedAndReported() {
        let r = CharsetConverter.convert([0x61, 0xFF, 0x62], from: "UTF-8", to: "UTF-8")
        #expect(r == CharsetConverter.Result(bytes: [0x61, 0x62], hadErrors: true))
    }

    @Test func unconvertibleCharactersAreDropped() {
        let r = CharsetConverter.convert(Array("a€b".utf8), from: "UTF-8", to: "ISO-8859-1")
        #expect(r?.bytes == [0x61, 0x62])
        #expect(r?.hadErrors == true)
    }

    @Test func encodingToISO2022JPReturnsToASCII() {
        let r = CharsetConverter.convert(Array("て".utf8), from: "UTF-8", to: "ISO-2022-JP")
        #expect(r?.bytes == [0x1B, 0x24, 0x42, 0x24, 0x46, 0x1B, 0x28, 0x42])
    }

    @Test func unknownCharset() {
        #expect(CharsetConverter.convert([0x41], from: "x-no-such", to: "UTF-8") == nil)
        #expect(!CharsetConverter.isKnown("bogus"))
        #expect(CharsetConverter.isKnown("utf-8"))
    }

    @Test(arguments: [("utf8", "UTF-8"), ("Latin1", "ISO-8859-1"), ("iso8859-2", "ISO-8859-2"), ("ANSI_X3.4-1968", "US-ASCII")])
    func normalizesNames(_ name: String, _ expected: String) {
        #expect(CharsetName.normalized(name) == expected)
    }
}
