#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// The bytes a FETCH sent through the flush hook, in order.
private final class Sent: Sendable {
    let bytes = Mutex<[UInt8]>([])
    func add(_ more: [UInt8]) { bytes.withLock { $0 += more } }
}

/// `LargeMessage` (a message over 1 MiB read from its file in pieces) answers what
/// `MessageView` (the message held whole) answers: every kind of section, BODYSTRUCTURE,
/// ENVELOPE, and through FETCH the decoded BINARY parts and SEARCH BODY/TEXT.
struct LargeMessageTests {
    /// A multipart message over 1 MiB: LF and CRLF line ends mixed (some CRLFs split across
    /// 256 KiB pieces), a quoted-printable part, a base64 part, an enclosed message.
    static func text() -> String {
        var s = "From: Big <big@example.test>\nSubject: large one\nX-Note: findme\nMIME-Version: 1.0\n"
            + "Content-Type: multipart/mixed; boundary=\"B\"\n\npre\n--B\n"
            + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        var i = 0
        while s.utf8.count < 700_000 {
            i += 1
            s += "caf=C3=A9 line \(i) " + String(repeating: "q", count: i % 83) + (i % 3 == 0 ? "=\n" : i % 7 == 0 ? "\r\n" : "\n")
        }
        s += "--B\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        while s.utf8.count < 1_400_000 { s += "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n" }
        s += "--B\nContent-Type: message/rfc822\n\nSubject: inner\nFrom: in@example.test\n\n"
        s += String(repeating: "inner body with needle-in-inner\n", count: 2000)
        s += "--B--\nepilogue\n"
        return s
    }

    @Test func sectionsStructureAndEnvelopeMatchTheWholeView() throws {
        let m = try TemporaryMaildir()
        let text = Self.text()
        try m.deliver(text)
        let names = SystemCall.names(in: m.path + "/new")
        let fd = open(m.path + "/new/" + (names.first ?? ""), O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let large = try #require(LargeMessage.scan(fd))
        var view = MessageView(fileBytes: Array(text.utf8))
        #expect(large.size == view.bytes.count)
        let sections: [Section] = [
            Section(), Section(text: .text), Section(text: .header), Section(part: [1]), Section(part: [1], text: .mime),
            Section(part: [2]), Section(part: [2], text: .mime), Section(part: [3]), Section(part: [3], text: .header),
            Section(part: [3], text: .text), Section(part: [3, 1]), Section(part: [9]),
            Section(text: .headerFields([Array("subject".utf8), Array("x-note".utf8)])),
            Section(part: [3], text: .headerFieldsNot([Array("subject".utf8)])),
        ]
        for section in sections {
            let expected = view.section(section)
            switch large.section(fd, section) {
            case nil: #expect(expected.isEmpty, "\(section)")
            case .made(let bytes): #expect(bytes == expected, "\(section)")
            case .range(let range): #expect(large.bytes(fd, range, limit: Int.max) == expected, "\(section)")
            }
        }
        #expect(large.bodyStructure(fd) == view.bodyStructure())
        #expect(large.envelope(fd) == view.envelope())
    }

    @Test func binaryAndSearchThroughFetch() throws {
        let m = try TemporaryMaildir()
        let text = Self.text()
        try m.deliver(text)
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        var view: MessageView? = MessageView(fileBytes: Array(text.utf8))
        for part: UInt32 in [1, 2, 3] {   // quoted-printable, base64, none (passed through)
            let sent = Sent()
            t.mailbox.flushHook = { sent.add($0) }
            let tail = t.run("b FETCH 1 (BINARY.PEEK[\(part)] BINARY.SIZE[\(part)] BINARY.PEEK[\(part)]<100.50> BINARY.PEEK[\(part)]<1.50>)")
            let decoded = try #require(MailboxSession.decodedPart(&view, Section(part: [part])))
            var expected = ResponseWriter()
            expected.append("* 1 FETCH (BINARY[\(part)] ")
            if decoded.contains(0) { expected.binaryLiteral(decoded) } else { expected.literal(decoded) }
            expected.append(" BINARY.SIZE[\(part)] \(decoded.count) BINARY[\(part)]<100> ")
            let cut = decoded[100..<150]
            if cut.contains(0) { expected.binaryLiteral(cut) } else { expected.literal(cut) }
            // A slice with no NUL of a part that has some is an ordinary literal.
            expected.append(" BINARY[\(part)]<1> ")
            let early = decoded[1..<51]
            if early.contains(0) { expected.binaryLiteral(early) } else { expected.literal(early) }
            expected.append(")\r\nb OK FETCH completed.\r\n")
            #expect(sent.bytes.withLock { $0 } + Array(tail.utf8) == expected.bytes)
        }
        t.mailbox.flushHook = nil
        #expect(t.run("c SEARCH BODY needle-in-inner").hasPrefix("* SEARCH 1\r\n"))
        #expect(t.run("d SEARCH BODY findme").hasPrefix("* SEARCH\r\n"))
        #expect(t.run("e SEARCH TEXT findme").hasPrefix("* SEARCH 1\r\n"))
        #expect(t.run("e2 SEARCH TEXT NEEDLE-in-inner").hasPrefix("* SEARCH 1\r\n"))
        #expect(t.run("e3 SEARCH TEXT needle-nowhere").hasPrefix("* SEARCH\r\n"))
        #expect(t.run("f SEARCH HEADER X-Note findme").hasPrefix("* SEARCH 1\r\n"))
    }

    /// BODY[] of a small message and then a large one in one FETCH: the small one's bytes,
    /// read ahead for the one-read path, must not send the large one down that path too
    /// (it would be read whole and flushed as one piece).
    @Test func wholeLargeMessageAfterASmallOneIsStreamed() throws {
        let m = try TemporaryMaildir()
        try m.deliver("Subject: small\n\nsmall body\n")
        let text = Self.text()
        try m.deliver(text)
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let sent = Sent()
        let largest = Mutex(0)
        t.mailbox.flushHook = { piece in
            sent.add(piece)
            largest.withLock { $0 = max($0, piece.count) }
        }
        let tail = t.run("b FETCH 1:2 BODY.PEEK[]")
        let all = sent.bytes.withLock { $0 } + Array(tail.utf8)
        var expected = ResponseWriter()
        expected.append("* 1 FETCH (BODY[] ")
        expected.literal(MessageView(fileBytes: Array("Subject: small\n\nsmall body\n".utf8)).bytes)
        expected.append(")\r\n* 2 FETCH (BODY[] ")
        expected.literal(MessageView(fileBytes: Array(text.utf8)).bytes)
        expected.append(")\r\nb OK FETCH completed.\r\n")
        #expect(all == expected.bytes)
        #expect(largest.withLock { $0 } <= MailboxSession.flushThreshold + MailboxSession.streamedBodyPiece)
    }

    /// ENVELOPE of a large message comes from the folder's summary once it has one: the file
    /// is not scanned again for it (shown by changing the file's subject behind the
    /// summary's back, which a scan would see; a delivered message never changes).
    @Test func largeEnvelopeComesFromTheSummary() throws {
        let m = try TemporaryMaildir()
        let text = Self.text()
        try m.deliver(text)
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        #expect(t.run("b FETCH 1 ENVELOPE").contains("\"large one\""))
        let name = try #require(SystemCall.names(in: m.path + "/cur").first)
        let fd = open(m.path + "/cur/" + name, O_WRONLY)
        #expect(fd >= 0)
        let other = Array(text.replacing("Subject: large one", with: "Subject: other one").utf8)
        _ = try SystemCall.writeAll(fd, other, path: name)
        close(fd)
        let again = t.run("c FETCH 1 ENVELOPE")
        #expect(again.contains("\"large one\""))
        #expect(!again.contains("other one"))
    }

    /// The top-level header items of a large message, read only to the header's end, answer
    /// what the whole message held answers; a header longer than the limit is not read alone.
    @Test func topHeaderItemsWithoutAScan() throws {
        let m = try TemporaryMaildir()
        let text = Self.text()
        try m.deliver(text)
        let name = try #require(SystemCall.names(in: m.path + "/new").first)
        let fd = open(m.path + "/new/" + name, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var whole = MessageView(fileBytes: Array(text.utf8))
        #expect(LargeMessage.topHeader(fd) == whole.section(Section(text: .header)))

        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let fields = Section(text: .headerFields([Array("subject".utf8), Array("x-note".utf8)]))
        let not = Section(text: .headerFieldsNot([Array("subject".utf8)]))
        var expected = ResponseWriter()
        expected.append("* 1 FETCH (RFC822.HEADER ")
        expected.literal(whole.section(Section(text: .header)))
        expected.append(" BODY[HEADER.FIELDS (\"SUBJECT\" \"X-NOTE\")] ")
        expected.literal(whole.section(fields))
        expected.append(" BODY[HEADER.FIELDS.NOT (\"SUBJECT\")]<5> ")
        expected.literal(whole.section(not)[5..<15])
        expected.append(")\r\nb OK FETCH completed.\r\n")
        let got = t.run("b FETCH 1 (RFC822.HEADER BODY.PEEK[HEADER.FIELDS (subject x-note)] BODY.PEEK[HEADER.FIELDS.NOT (subject)]<5.10>)")
        #expect(Array(got.utf8) == expected.bytes)
        #expect(t.run("c SEARCH HEADER X-Note findme").hasPrefix("* SEARCH 1\r\n"))

        let long = try TemporaryMaildir()
        try long.deliver("Subject: long\nX-Long: " + String(repeating: "x", count: LargeMessage.headerLimit + 10) + "\n\nbody\n")
        let longName = try #require(SystemCall.names(in: long.path + "/new").first)
        let longFD = open(long.path + "/new/" + longName, O_RDONLY)
        #expect(longFD >= 0)
        defer { close(longFD) }
        #expect(LargeMessage.topHeader(longFD) == nil)
    }
}
