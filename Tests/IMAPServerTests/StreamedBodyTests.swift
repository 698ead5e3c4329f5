import Synchronization
import Testing
@testable import IMAP
@testable import IMAPServer

/// The bytes a FETCH sent through the flush hook, in order.
private final class Collected: Sendable {
    let parts = Mutex<[UInt8]>([])
    func add(_ bytes: [UInt8]) { parts.withLock { $0 += bytes } }
}

struct StreamedBodyTests {
    /// A message over the streaming threshold goes out in pieces, never read whole, and the
    /// client gets exactly the bytes the one-read path would give: LF becomes CR LF, CR LF and a
    /// bare CR stay, also where a piece boundary falls between them.
    @Test func largeBodyIsStreamedWithTheSameBytes() throws {
        let m = try TemporaryMaildir()
        var text = "Subject: big\n\n"
        var line = 0
        while text.utf8.count < MailboxSession.streamedBodyThreshold + 3 * MailboxSession.streamedBodyPiece {
            line += 1
            switch line % 4 {
            case 0: text += "line \(line) with CR LF\r\n"
            case 1: text += "line \(line) with a bare CR\r inside\n"
            default: text += String(repeating: "x", count: line % 97) + "\n"
            }
        }
        try m.deliver(text)
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let collected = Collected()
        t.mailbox.flushHook = { collected.add($0) }
        let tail = t.run("b FETCH 1 (BODY.PEEK[] FLAGS)")
        let sent = String(decoding: collected.parts.withLock { $0 }, as: UTF8.self) + tail

        var expected = ResponseWriter()
        expected.literalFromLF(Array(text.utf8))
        let literal = String(decoding: expected.bytes, as: UTF8.self)
        #expect(sent.hasPrefix("* 1 FETCH (BODY[] " + literal + " FLAGS ("))
        #expect(sent.hasSuffix("b OK FETCH completed.\r\n"))
        #expect(collected.parts.withLock { $0.count } > MailboxSession.streamedBodyThreshold)
    }

    /// RFC822 (the whole message, as BODY[]) streams the same way.
    @Test func largeRFC822IsStreamed() throws {
        let m = try TemporaryMaildir()
        let text = "Subject: big\n\n" + String(repeating: "0123456789\n", count: MailboxSession.streamedBodyThreshold / 5)
        try m.deliver(text)
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let collected = Collected()
        t.mailbox.flushHook = { collected.add($0) }
        let tail = t.run("b FETCH 1 RFC822")
        let sent = String(decoding: collected.parts.withLock { $0 }, as: UTF8.self) + tail
        var expected = ResponseWriter()
        expected.literalFromLF(Array(text.utf8))
        #expect(sent.hasPrefix("* 1 FETCH (RFC822 " + String(decoding: expected.bytes, as: UTF8.self)))
        #expect(collected.parts.withLock { $0.count } > MailboxSession.streamedBodyThreshold)
    }

    /// Below the threshold the whole message is read at once, as before (no flush needed).
    @Test func smallBodyTakesTheOneReadPath() throws {
        let m = try TemporaryMaildir()
        try m.deliver("Subject: small\n\nhello\n")
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let collected = Collected()
        t.mailbox.flushHook = { collected.add($0) }
        let out = t.run("b FETCH 1 BODY.PEEK[]")
        #expect(out.hasPrefix("* 1 FETCH (BODY[] {25}\r\nSubject: small\r\n\r\nhello\r\n)"))
        #expect(collected.parts.withLock { $0.isEmpty })
    }
}
