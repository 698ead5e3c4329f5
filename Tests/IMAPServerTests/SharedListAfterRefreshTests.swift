#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import Maildir
import MaildirCore

/// After a refresh that picks up another session's change, the sessions hold one message
/// array again (issue 6), while each one's answers stay its own.
@Suite struct SharedListAfterRefreshTests {
    static func buffer(_ t: MailboxTranscript) -> UnsafeRawPointer? {
        SharedMessageListTests.buffer(t)
    }

    static func sessions(_ m: TemporaryMaildir, _ count: Int) -> [MailboxTranscript] {
        (0..<count).map { _ in
            var t = MailboxTranscript(m)
            _ = t.run("a SELECT INBOX")
            return t
        }
    }

    @Test func aFlagChangeSeenByRefreshesLeavesOneSharedList() throws {
        let m = try TemporaryMaildir()
        for n in 1...5 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var setup = MailboxTranscript(m)
        _ = setup.run("a SELECT INBOX")   // takes the mail out of new/ (\Recent there only)
        SharedMessageListTests.settle(m)
        var s = Self.sessions(m, 4)
        #expect(Set(s.map(Self.buffer)).count == 1)
        // Not settled any more (a change just now): sharing must not wait for the stamps.
        #expect(s[0].run("b STORE 2 +FLAGS (\\Flagged)").contains("* 2 FETCH (FLAGS (\\Flagged))"))
        for i in 1..<4 {
            #expect(s[i].run("c NOOP") == "* 2 FETCH (FLAGS (\\Flagged))\r\nc OK NOOP completed\r\n")
        }
        // Sessions 1–3 went from the old list through their own copy to one new list.
        #expect(Self.buffer(s[1]) != nil)
        #expect(Self.buffer(s[1]) == Self.buffer(s[2]) && Self.buffer(s[2]) == Self.buffer(s[3]))
        // The session that stored has nothing to report and joins them on its next refresh.
        #expect(Self.buffer(s[0]) != Self.buffer(s[1]))
        #expect(s[0].run("d NOOP") == "d OK NOOP completed\r\n")
        #expect(Self.buffer(s[0]) == Self.buffer(s[1]))
        for i in 0..<4 {
            #expect(s[i].run("e FETCH 2 (FLAGS)") == "* 2 FETCH (FLAGS (\\Flagged))\r\ne OK FETCH completed.\r\n")
        }
    }

    @Test func aSessionWithAnUnreportedExpungeKeepsItsOwnViewUntilItMayReportIt() throws {
        let m = try TemporaryMaildir()
        for n in 1...4 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var setup = MailboxTranscript(m)
        _ = setup.run("a SELECT INBOX")
        SharedMessageListTests.settle(m)
        var s = Self.sessions(m, 3)
        _ = s[0].run("b STORE 3 +FLAGS (\\Deleted)")
        #expect(s[0].run("c EXPUNGE").contains("* 3 EXPUNGE\r\n"))
        // Session 1 refreshes in a way that may not report the expunge (RFC 3501 §7.4.1): a
        // UID FETCH sees new flags and mail but keeps the message, so its sequence numbers stay.
        let fetched = s[1].run("d UID FETCH 1:* (FLAGS)")
        #expect(!fetched.contains("EXPUNGE"))
        #expect(s[1].run("e FETCH 4 (UID)").contains("* 4 FETCH (UID 4)"))
        // Session 2 may report it (NOOP): it shares the folder's list with the expunging session.
        #expect(s[2].run("f NOOP").contains("* 3 EXPUNGE\r\n"))
        #expect(Self.buffer(s[2]) == Self.buffer(s[0]) || s[0].run("g NOOP") == "g OK NOOP completed\r\n")
        #expect(Self.buffer(s[2]) == Self.buffer(s[0]))
        #expect(Self.buffer(s[1]) != Self.buffer(s[2]))
        // Session 1's NOOP reports the expunge, and then it shares the list too.
        #expect(s[1].run("h NOOP").contains("* 3 EXPUNGE\r\n"))
        #expect(Self.buffer(s[1]) == Self.buffer(s[2]))
        #expect(s[1].run("i FETCH 3 (UID)").contains("* 3 FETCH (UID 4)"))
    }

    @Test func recentMessagesStayPrivateAndNewMailIsSharedByTheSessionsThatSeeNoRecent() throws {
        let m = try TemporaryMaildir()
        for n in 1...2 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var setup = MailboxTranscript(m)
        _ = setup.run("a SELECT INBOX")
        SharedMessageListTests.settle(m)
        var s = Self.sessions(m, 3)
        try m.deliver("From: b@example.test\nSubject: new\n\nnew\n")
        // The first refresh moves the new message to cur/ and gets its \Recent: private.
        let first = s[0].run("b NOOP")
        #expect(first.contains("* 3 EXISTS\r\n* 1 RECENT\r\n"))
        let second = s[1].run("b NOOP")
        #expect(second.contains("* 3 EXISTS\r\n* 0 RECENT\r\n"))
        #expect(s[2].run("b NOOP") == second)
        #expect(Self.buffer(s[1]) == Self.buffer(s[2]))
        #expect(Self.buffer(s[0]) != Self.buffer(s[1]))
        #expect(s[0].run("c FETCH 3 (FLAGS)").contains("\\Recent"))
        #expect(!s[1].run("c FETCH 3 (FLAGS)").contains("\\Recent"))
    }
}

extension SharedListAfterRefreshTests {
    /// SELECTs right after a change (the folder's stamps not settled yet) open the folder each,
    /// and still end up on one array.
    @Test func selectsOfAFolderThatJustChangedShareOneArray() throws {
        let m = try TemporaryMaildir()
        for n in 1...3 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var setup = MailboxTranscript(m)
        _ = setup.run("a SELECT INBOX")
        _ = setup.run("b STORE 2 +FLAGS (\\Seen)")   // just now: not settled
        #expect(FolderIndex.settledStamps(folderPath: m.path) == nil)
        let s = Self.sessions(m, 3)
        #expect(Self.buffer(s[0]) != nil)
        #expect(Set(s.map(Self.buffer)).count == 1)
        var t = s
        for i in 0..<3 { #expect(t[i].run("c FETCH 2 (FLAGS)") == "* 2 FETCH (FLAGS (\\Seen))\r\nc OK FETCH completed.\r\n") }
    }
}
