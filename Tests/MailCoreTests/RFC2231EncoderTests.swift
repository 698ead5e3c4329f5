import Testing
import MailCore

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func render(_ parameters: [RFC2231Encoder.Parameter]?) -> [String] {
    (parameters ?? []).map { String(decoding: $0.name + [UInt8(ascii: "=")] + $0.value, as: UTF8.self) }
}

@Suite struct RFC2231EncoderTests {
    @Test func plainValueIsQuoted() {
        let result = RFC2231Encoder.parameters(name: bytes("name"), value: bytes("simple.txt"), charset: bytes("utf-8"))
        #expect(render(result) == ["name=\"simple.txt\""])
    }

    @Test func punctuationThatIsNotSpecialStaysPlain() {
        let result = RFC2231Encoder.parameters(name: bytes("name"), value: bytes("a*b/c?d@e,f<g>[h]"), charset: bytes("utf-8"))
        #expect(render(result) == ["name=\"a*b/c?d@e,f<g>[h]\""])
    }

    @Test func specialsArePercentEncodedWithTheCharsetLabel() {
        let result = RFC2231Encoder.parameters(name: bytes("name"), value: bytes("résumé (final).txt"), charset: bytes("iso-8859-1"))
        #expect(render(result) == ["name*0*=iso-8859-1''r%C3%A9sum%C3%A9%20%28final%29.txt"])
    }

    @Test(arguments: Array("()'\"\\%:;= \t".utf8) + [0x7F, 0x80, 0xFF])
    func specialBytes(byte: UInt8) {
        #expect(RFC2231Encoder.needsEncoding(byte))
    }

    @Test func longPlainValueIsSplitIntoSections() {
        let value = String(repeating: "a", count: 89)
        let result = RFC2231Encoder.parameters(name: bytes("name"), value: bytes(value), charset: bytes("utf-8"))
        #expect(render(result) == [
            "name*0*=utf-8''" + String(repeating: "a", count: 56),
            "name*1*=" + String(repeating: "a", count: 33),
        ])
    }

    @Test func sectionsNeverSplitAnEscape() {
        let value = String(repeating: "a", count: 59) + " é " + String(repeating: "a", count: 77)
        let result = RFC2231Encoder.parameters(name: bytes("name"), value: bytes(value), charset: bytes("utf-8"))
        #expect(render(result) == [
            "name*0*=utf-8''" + String(repeating: "a", count: 56),
            "name*1*=aaa%20%C3%A9%20" + String(repeating: "a", count: 48),
            "name*2*=" + String(repeating: "a", count: 29),
        ])
    }

    @Test func shortValueThatNeedsNoEncodingButIsTooLongGetsSections() {
        // name + value must stay under 75 characters for the quoted form.
        let value = String(repeating: "b", count: 71)
        let result = RFC2231Encoder.parameters(name: bytes("name"), value: bytes(value), charset: [])
        #expect(render(result).first == "name*0*=''" + String(repeating: "b", count: 61))
    }

    @Test func overlongNameIsRefused() {
        let name = [UInt8](repeating: UInt8(ascii: "n"), count: 61)
        #expect(RFC2231Encoder.parameters(name: name, value: bytes("x"), charset: []) == nil)
    }
}
