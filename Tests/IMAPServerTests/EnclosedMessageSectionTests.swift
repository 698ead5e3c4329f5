import Testing
@testable import IMAP
@testable import IMAPServer
import MailCore

/// BODY[n], BODY[n.TEXT] and friends of message/rfc822 parts: the enclosed message ends where
/// the part's body ends, before the line break that belongs to the next delimiter (RFC 2046
/// §5.1.1). Expected bytes are Dovecot 2.3's answers for the same files.
struct EnclosedMessageSectionTests {
    static let nested = Array((
        "From: a@b.test\nSubject: m2\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"
        + "--b1\nContent-Type: text/plain\n\nouter\n\n--b1\nContent-Type: message/rfc822\n\n"
        + "From: x@b.test\nSubject: simple inner\n\nsimple body\nline two\n\n--b1\nContent-Type: message/rfc822\n\n"
        + "From: y@b.test\nSubject: wrapper\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
        + "From: z@b.test\nSubject: deepest\n\ndeep body\n--b1--\nepilogue\n").utf8)

    static func section(_ bytes: [UInt8], _ part: [UInt32], _ text: Section.Text? = nil) -> String {
        var view = MessageView(fileBytes: bytes)
        return String(decoding: view.section(Section(part: part, text: text)), as: UTF8.self)
    }

    @Test func enclosedMessageEndsBeforeTheDelimitersLineBreak() {
        let m = Self.nested
        #expect(Self.section(m, [2]) == "From: x@b.test\r\nSubject: simple inner\r\n\r\nsimple body\r\nline two\r\n")
        #expect(Self.section(m, [2], .text) == "simple body\r\nline two\r\n")
        #expect(Self.section(m, [2, 1]) == "simple body\r\nline two\r\n")
        #expect(Self.section(m, [3]) == "From: y@b.test\r\nSubject: wrapper\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: message/rfc822\r\n\r\nFrom: z@b.test\r\nSubject: deepest\r\n\r\ndeep body")
        #expect(Self.section(m, [3], .text) == "From: z@b.test\r\nSubject: deepest\r\n\r\ndeep body")
        #expect(Self.section(m, [3, 1]) == "From: z@b.test\r\nSubject: deepest\r\n\r\ndeep body")
        #expect(Self.section(m, [3, 1], .text) == "deep body")
        #expect(Self.section(m, [3, 1, 1]) == "deep body")
        #expect(Self.section(m, [3], .header) == "From: y@b.test\r\nSubject: wrapper\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: message/rfc822\r\n\r\n")
        // A plain part in the same multipart was right before and stays so.
        #expect(Self.section(m, [1]) == "outer\r\n")
    }

    @Test func bodyStructureSizesOfEnclosedMessages() {
        var view = MessageView(fileBytes: Self.nested)
        var w = ResponseWriter()
        w.bodyStructure(view.bodyStructure(), extended: true)
        let text = String(decoding: w.bytes, as: UTF8.self)
        // Dovecot: part 2 is 64 bytes, 5 lines, its text 23 bytes, 2 lines; part 3 is 130 / 8.
        #expect(text.contains("\"7bit\" 64 (NIL \"simple inner\""))
        #expect(text.contains("\"7bit\" 23 2 NIL NIL NIL NIL) 5 NIL"))
        #expect(text.contains("\"7bit\" 130 (NIL \"wrapper\""))
        #expect(text.contains("\"7bit\" 9 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) 8 NIL"))
    }

    /// A message whose own type is message/rfc822: 1 is its body (the enclosed message), and
    /// 1.1, 1.2 the parts of that message (Dovecot and Courier agree).
    @Test func topLevelMessageRFC822() {
        let m = Array(("From: a@b.test\nSubject: top\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
            + "From: in@b.test\nSubject: inside\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n"
            + "--q\n\npart one\n--q\nContent-Type: text/plain\n\npart two\n--q--\n").utf8)
        #expect(Self.section(m, [1, 1]) == "part one")
        #expect(Self.section(m, [1, 2]) == "part two")
        #expect(Self.section(m, [1, 1], .mime) == "\r\n")
        #expect(Self.section(m, [1, 2], .mime) == "Content-Type: text/plain\r\n\r\n")
        #expect(Self.section(m, [1], .header).hasPrefix("From: in@b.test\r\n"))
    }

    /// HEADER.FIELDS of a header whose last field ends the data without a line break: the
    /// field, then one CRLF (Courier-IMAP and Dovecot answer the same for a top-level header).
    @Test func headerFieldsOfAnUnterminatedHeader() {
        let m = Array("Subject: headers only".utf8)
        #expect(Self.section(m, [], .headerFields([Array("SUBJECT".utf8)])) == "Subject: headers only\r\n")
    }
}
