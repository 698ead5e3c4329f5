#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import Maildir
import MaildirCore

@Suite struct SharedMessageListTests {
    /// Makes the folder's directory times old, as a folder nobody touched for a while.
    static func settle(_ m: TemporaryMaildir, seconds: Int = 1_000_000_000) {
        var old = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        for dir in ["/new", "/cur", "/courierimapuiddb", "/courierimapkeywords", ""] { _ = utimensat(AT_FDCWD, m.path + dir, &old, 0) }
    }

    static func buffer(_ t: MailboxTranscript) -> UnsafeRawPointer? {
        t.mailbox.selected?.messages.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func sessionsOfASettledFolderShareOneListAndStillSeeEachOthersChanges() throws {
        let m = try TemporaryMaildir()
        for n in 1...4 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var setup = MailboxTranscript(m)
        _ = setup.run("a SELECT INBOX")   // moves new/ to cur/: recent, so not shared
        _ = setup.run("b LOGOUT")
        Self.settle(m)
        var a = MailboxTranscript(m)
        var b = MailboxTranscript(m)
        let selectA = a.run("a SELECT INBOX")
        let selectB = b.run("a SELECT INBOX")
        #expect(selectA == selectB)
        #expect(selectA.contains("* 4 EXISTS\r\n* 0 RECENT\r\n"))
        // One array for both sessions.
        #expect(Self.buffer(a) != nil && Self.buffer(a) == Self.buffer(b))

        // A flag change by b: b's view is its own from then on; a sees it on its next NOOP.
        #expect(b.run("b STORE 2 +FLAGS (\\Flagged)").contains("* 2 FETCH (FLAGS (\\Flagged))"))
        #expect(Self.buffer(a) != Self.buffer(b))
        #expect(a.run("c NOOP").contains("* 2 FETCH (FLAGS (\\Flagged))"))
        #expect(a.run("d FETCH 2 (FLAGS)").contains("\\Flagged"))

        // An expunge by b reaches a as EXPUNGE, and a third session sees the folder as it is now.
        _ = b.run("e STORE 3 +FLAGS (\\Deleted)")
        #expect(b.run("f EXPUNGE").contains("* 3 EXPUNGE\r\n"))
        let noop = a.run("g NOOP")
        #expect(noop.contains("* 3 EXPUNGE\r\n"))
        var c = MailboxTranscript(m)
        #expect(c.run("a SELECT INBOX").contains("* 3 EXISTS\r\n"))
        #expect(c.run("b FETCH 2 (FLAGS)").contains("\\Flagged"))

        // Settled again (later times; the first open after the change may rewrite the UID
        // database and the snapshot): new sessions share the list again, with the changes.
        Self.settle(m, seconds: 1_000_000_100)
        #expect(FolderIndex.settledStamps(folderPath: m.path) != nil)
        var primer = MailboxTranscript(m)
        _ = primer.run("a SELECT INBOX")
        Self.settle(m, seconds: 1_000_000_200)
        var d = MailboxTranscript(m)
        var e = MailboxTranscript(m)
        _ = d.run("a SELECT INBOX")
        _ = e.run("a SELECT INBOX")
        #expect(Self.buffer(d) == Self.buffer(e))
        #expect(e.run("b FETCH 1:* (FLAGS)") == c.run("c FETCH 1:* (FLAGS)").replacingOccurrences(of: "c OK", with: "b OK"))
    }

    @Test func aListWithRecentMessagesIsNotShared() throws {
        let m = try TemporaryMaildir()
        try m.deliver("From: a@example.test\nSubject: x\n\nbody\n")
        Self.settle(m)
        var a = MailboxTranscript(m)
        #expect(a.run("a SELECT INBOX").contains("* 1 RECENT\r\n"))
        Self.settle(m, seconds: 1_000_000_100)
        var b = MailboxTranscript(m)
        #expect(b.run("a SELECT INBOX").contains("* 0 RECENT\r\n"))
        #expect(a.run("b FETCH 1 (FLAGS)").contains("\\Recent"))
    }
}

extension SharedMessageListTests {
    @Test func aSessionThatCopiedTheListSharesItAgainOnceTheFolderSettles() throws {
        let m = try TemporaryMaildir()
        for n in 1...3 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var setup = MailboxTranscript(m)
        _ = setup.run("a SELECT INBOX")
        Self.settle(m)
        var a = MailboxTranscript(m)
        var b = MailboxTranscript(m)
        _ = a.run("a SELECT INBOX")
        _ = b.run("a SELECT INBOX")
        _ = b.run("b STORE 1 +FLAGS (\\Seen)")
        #expect(a.run("c NOOP").contains("* 1 FETCH (FLAGS (\\Seen))"))
        #expect(Self.buffer(a) != Self.buffer(b))
        // Nothing changes any more; once settled, IDLE polls bring both back to one list (the
        // first open after the change may rewrite the UID database: settle once more).
        _ = a.run("d NOOP")
        _ = b.run("d NOOP")
        for seconds in [1_000_000_100, 1_000_000_200] {
            Self.settle(m, seconds: seconds)
            _ = a.run("d NOOP")
            _ = b.run("d NOOP")
            #expect(a.mailbox.idleUpdates().isEmpty)
            #expect(b.mailbox.idleUpdates().isEmpty)
        }
        #expect(Self.buffer(a) == Self.buffer(b))
        #expect(a.run("e FETCH 1:* (FLAGS)") == "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS ())\r\ne OK FETCH completed.\r\n")
        #expect(b.run("e FETCH 1:* (FLAGS)") == a.run("e FETCH 1:* (FLAGS)"))
    }
}

extension SharedMessageListTests {
    /// An EXAMINE leaves new mail in new/; a later SELECT must not be served that list, or the
    /// mail would never move to cur/ nor be \Recent.
    @Test func examineNeverSharesAListWithMailLeftInNew() throws {
        let m = try TemporaryMaildir()
        for n in 1...2 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        Self.settle(m)
        var a = MailboxTranscript(m)
        _ = a.run("a EXAMINE INBOX")   // read-only: new/ is left as it is
        var b = MailboxTranscript(m)
        let selected = b.run("b SELECT INBOX")
        #expect(selected.contains("* 2 EXISTS\r\n"))
        #expect(selected.contains("* 2 RECENT\r\n"))
        #expect(SystemCall.names(in: m.path + "/new").filter { !$0.hasPrefix(".") }.isEmpty)
    }
}
