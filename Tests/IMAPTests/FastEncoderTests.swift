import Testing
@testable import IMAP

/// The byte-level writers of the hot paths: numbers without Strings, stored messages
/// converted to CRLF straight into the response.
@Suite struct FastEncoderTests {
    func text(_ body: (inout ResponseWriter) -> Void) -> String {
        var w = ResponseWriter()
        body(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test(arguments: [UInt64(0), 1, 9, 10, 99, 100, 4_294_967_295, 1_000_000_007, UInt64.max])
    func decimalsAreWhatStringWrites(_ n: UInt64) {
        #expect(text { $0.appendDecimal(n) } == String(n))
        #expect(text { $0.appendNumber(n) } == String(n))
    }

    @Test func negativeNumbersStillWrite() {
        #expect(text { $0.appendNumber(-42) } == "-42")
    }

    @Test func storedMessagesBecomeCRLFLiterals() {
        #expect(text { $0.literalFromLF(Array("a\nb\n".utf8)) } == "{6}\r\na\r\nb\r\n")
        // CR LF already there stays; a lone CR stays; no LF at the end is fine.
        #expect(text { $0.literalFromLF(Array("a\r\nb\rc\nd".utf8)) } == "{9}\r\na\r\nb\rc\r\nd")
        #expect(text { $0.literalFromLF(Array("\n\n".utf8)) } == "{4}\r\n\r\n\r\n")
        #expect(text { $0.literalFromLF(Array("no line end".utf8)) } == "{11}\r\nno line end")
        #expect(text { $0.literalFromLF([]) } == "\"\"")
    }
}
