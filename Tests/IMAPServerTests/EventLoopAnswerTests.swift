#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import Maildir
import MaildirCore

extension MailboxTranscript {
    /// Runs a line the way the connection handler does when `prepareOnEventLoop` says the event
    /// loop may answer it; nil when it may not (the handler would take the thread pool).
    mutating func onEventLoop(_ line: String) -> String? {
        poolAnswer = nil
        guard case .mailbox(let tagged, _) = session.receive(command: Array(line.utf8)) else { return nil }
        guard mailbox.prepareOnEventLoop(tagged, utf8: false) else {
            // Not answered here: the pool runs it (as the handler would), and the test learns that.
            let (bytes, change) = mailbox.run(tagged, utf8: false)
            if case .selected(let name, let readOnly) = change { session.selected(name, readOnly: readOnly) }
            poolAnswer = String(decoding: bytes, as: UTF8.self)
            return nil
        }
        let hook = mailbox.flushHook
        mailbox.flushHook = nil
        let (bytes, change) = mailbox.run(tagged, utf8: false)
        mailbox.flushHook = hook
        mailbox.forgetMessage()
        if case .selected(let name, let readOnly) = change { session.selected(name, readOnly: readOnly) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The answers the event loop gives without the thread pool (issue 6): the same bytes as the
/// pool's, and never once the folder changed on disk.
@Suite struct EventLoopAnswerTests {
    static func moveIn(_ m: TemporaryMaildir, _ name: String, _ sub: String, _ bytes: String) {
        let tmp = m.path + "/tmp/" + name
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = bytes.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        _ = rename(tmp, m.path + "/" + sub)
    }

    @Test func generationsMoveOnWhatClientsSeeAndNotOnTheServersCaches() throws {
        let m = try TemporaryMaildir()
        guard let generations = FolderGenerations.shared else { return }   // no inotify here
        let g = try #require(generations.watch(m.path))
        #expect(generations.isCurrent(g))
        Self.moveIn(m, "x1", "courierswiftsnapshot", "cache")
        #expect(generations.isCurrent(g))
        Self.moveIn(m, "x2", "new/1.M1P1.host", "Subject: a\n\nb\n")
        #expect(!generations.isCurrent(g))
        let g2 = try #require(generations.watch(m.path))
        #expect(generations.isCurrent(g2))
        _ = rename(m.path + "/new/1.M1P1.host", m.path + "/cur/1.M1P1.host:2,S")
        #expect(!generations.isCurrent(g2))
        let g3 = try #require(generations.watch(m.path))
        Self.moveIn(m, "x3", "courierimapacl", "owner aceilrstwx\n")
        #expect(!generations.isCurrent(g3))
    }

    @Test func aRepeatedSelectIsAnsweredOnTheEventLoopWithThePoolsBytes() throws {
        guard FolderGenerations.shared != nil else { return }
        let m = try TemporaryMaildir()
        for n in 1...3 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var t = MailboxTranscript(m)
        #expect(t.run("a SELECT INBOX").contains("* 3 RECENT"))   // moves the mail to cur/
        // The first SELECT of the folder as it is now reads it; the next one is answered from memory.
        #expect(t.onEventLoop("b SELECT INBOX") == nil)
        let pool = try #require(t.poolAnswer)
        #expect(pool.contains("* 3 EXISTS\r\n* 0 RECENT\r\n"))
        let fast = t.onEventLoop("b SELECT INBOX")
        #expect(fast == pool)
        #expect(t.onEventLoop("b EXAMINE INBOX") == nil)   // another memo: read-only
        #expect(t.onEventLoop("b SELECT INBOX") == nil)
        #expect(t.onEventLoop("b SELECT INBOX") == pool)
    }

    @Test func aDeliveryJustBeforeSelectIsSeenAtOnce() throws {
        guard FolderGenerations.shared != nil else { return }
        let m = try TemporaryMaildir()
        for n in 1...2 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        _ = t.run("b SELECT INBOX")
        #expect(t.onEventLoop("c SELECT INBOX")?.contains("* 2 EXISTS") == true)
        try m.deliver("From: a@example.test\nSubject: 3\n\nbody 3\n")
        // No pause: inotify queued the event inside the delivery's rename.
        #expect(t.onEventLoop("d SELECT INBOX") == nil)
        #expect(t.poolAnswer?.contains("* 3 EXISTS\r\n* 1 RECENT\r\n") == true)
        // The memo of the folder as it was is gone (it held a list nobody else may use now).
        #expect(t.mailbox.selectMemo == nil)
        #expect(t.onEventLoop("e SELECT INBOX") == nil)
        #expect(t.onEventLoop("f SELECT INBOX")?.contains("* 3 EXISTS\r\n* 0 RECENT\r\n") == true)
    }

    @Test func uidFetchOfABodyOnTheEventLoopMatchesThePoolAndLeavesSeenAlone() throws {
        guard FolderGenerations.shared != nil else { return }
        let m = try TemporaryMaildir()
        for n in 1...3 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nline one\nline two \(n)\n") }
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        let pool = t.run("b UID FETCH 2 BODY.PEEK[]")
        #expect(pool.contains("BODY[] {58}\r\nFrom: a@example.test\r\nSubject: 2\r\n\r\nline one\r\nline two 2\r\n)"))
        // The file was just read: it is in the page cache, so the event loop may read it.
        let fast = t.onEventLoop("b UID FETCH 2 BODY.PEEK[]")
        #expect(fast == pool)
        // (This session's SELECT took the mail out of new/: \Recent is its own.)
        #expect(t.onEventLoop("c UID FETCH 2 (FLAGS BODY.PEEK[])")?.contains("(UID 2 FLAGS (\\Recent) BODY[] {58}") == true)
        // BODY[] sets \Seen (a rename): the thread pool's business.
        #expect(t.onEventLoop("d UID FETCH 2 BODY[]") == nil)
        #expect(t.poolAnswer?.contains("FLAGS (\\Seen \\Recent)") == true)
        #expect(t.onEventLoop("e UID FETCH 1:3 BODY.PEEK[]") == nil)   // more than one message
        #expect(t.onEventLoop("f FETCH 2 BODY.PEEK[]") == nil)         // not a UID command
    }

    @Test func anotherSessionsFlagChangeIsReportedBeforeTheBody() throws {
        guard FolderGenerations.shared != nil else { return }
        let m = try TemporaryMaildir()
        for n in 1...3 { try m.deliver("From: a@example.test\nSubject: \(n)\n\nbody \(n)\n") }
        var a = MailboxTranscript(m)
        _ = a.run("a SELECT INBOX")
        _ = a.run("b UID FETCH 2 BODY.PEEK[]")
        #expect(a.onEventLoop("c UID FETCH 2 BODY.PEEK[]") != nil)
        var b = MailboxTranscript(m)
        _ = b.run("a SELECT INBOX")
        #expect(b.run("b UID STORE 3 +FLAGS (\\Flagged)").contains("b OK"))
        #expect(a.onEventLoop("d UID FETCH 2 BODY.PEEK[]") == nil)
        #expect(a.poolAnswer?.hasPrefix("* 3 FETCH (FLAGS (\\Flagged \\Recent))\r\n") == true)
        // In step again: the next one is the event loop's.
        _ = a.run("e UID FETCH 2 BODY.PEEK[]")
        #expect(a.onEventLoop("f UID FETCH 2 BODY.PEEK[]") != nil)
    }

    /// Whether the process's inotify descriptor has a watch on the directory at `path`.
    static func isWatched(_ path: String, by generations: FolderGenerations) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let inode = " ino:" + String(UInt64(st.st_ino), radix: 16) + " "
        let fd = open("/proc/self/fdinfo/\(generations.fd)", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            text += chunk[..<n]
        }
        return String(decoding: text, as: UTF8.self).split(separator: "\n").contains { $0.contains(inode) }
    }

    static func makeFolder(_ path: String, keywords: Bool = true) {
        for sub in ["", "/new", "/cur", "/tmp"] + (keywords ? ["/courierimapkeywords"] : []) { mkdir(path + sub, 0o700) }
    }

    @Test func aFolderRenamedAwayIsWatchedAfreshAtItsOldName() throws {
        guard let generations = FolderGenerations.shared else { return }
        let m = try TemporaryMaildir()
        let old = m.path + "/.Old", moved = m.path + "/.Moved"
        Self.makeFolder(old)
        let g = try #require(generations.watch(old))
        #expect(rename(old, moved) == 0)   // IMAP RENAME Old Moved
        #expect(!generations.isCurrent(g))
        Self.makeFolder(old)               // CREATE Old: another directory at the old name
        let g2 = try #require(generations.watch(old))
        #expect(generations.isCurrent(g2))
        Self.moveIn(m, "x1", ".Old/new/1.M1P1.host", "Subject: a\n\nb\n")
        #expect(!generations.isCurrent(g2))   // the new directory's delivery counts
        // The moved directory's watches went with the next registration.
        _ = generations.watch(old)
        #expect(!Self.isWatched(moved, by: generations))
        #expect(!Self.isWatched(moved + "/new", by: generations))
        #expect(Self.isWatched(old + "/new", by: generations))
    }

    @Test func aFolderThatCannotBeWatchedLeavesNoWatchBehind() throws {
        guard let generations = FolderGenerations.shared else { return }
        let m = try TemporaryMaildir()
        let half = m.path + "/.Half"
        mkdir(half, 0o700)
        mkdir(half + "/new", 0o700)   // no cur/: the third watch fails
        #expect(generations.watch(half) == nil)
        #expect(!Self.isWatched(half, by: generations))
        #expect(!Self.isWatched(half + "/new", by: generations))
    }
}
