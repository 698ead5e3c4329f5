import Glibc
import MaildirCore
import Testing
@testable import POP3

/// Courier's recovery when `courierpop3dsizelist` cannot be written (disk full; here `tmp/` is
/// not a directory, so neither the list nor the lock can be made): new messages stay hidden,
/// or, when all are new, the first alone is shown with an `ENOMEM-…` UIDL.
@Suite struct POP3DiskFullTests {
    static func breakTmp(_ dir: String) {
        rmdir(dir + "/tmp")
        writeTestFile(dir + "/tmp", "not a directory")
    }

    static func repairTmp(_ dir: String) {
        unlink(dir + "/tmp")
        mkdir(dir + "/tmp", 0o700)
    }

    static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - text.utf8.count) + text
    }

    @Test func allNewShowsTheFirstMessageWithAnENOMEMUIDL() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/cur/100.A.host:2,", "Subject: a\n\na\n")
        writeTestFile(dir + "/cur/101.B.host:2,", "Subject: b\n\nb\n")
        Self.breakTmp(dir)
        let now = Int64(time(nil))
        let shown = try POP3Mailbox(path: dir).open(now: now)
        var st = stat()
        #expect(stat(dir + "/cur/100.A.host:2,", &st) == 0)
        let expected = "ENOMEM-" + Self.hex(UInt64(st.st_mtim.tv_sec)) + "-" + Self.hex(UInt64(st.st_dev)) + "-"
            + Self.hex(UInt64(st.st_ino))
        #expect(shown.map(\.path) == ["cur/100.A.host:2,"])
        #expect(shown.map(\.uidl) == [expected])
        #expect(access(dir + "/" + POP3Mailbox.sizeListName, F_OK) != 0)
        // Room again: both messages, with UIDs from a new list.
        Self.repairTmp(dir)
        let later = try POP3Mailbox(path: dir).open(now: now)
        #expect(later.map(\.uidl) == ["UID1-\(now)", "UID2-\(now)"])
    }

    @Test func newMessagesStayHiddenWhileTheListCannotBeSaved() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/cur/100.A.host:2,", "Subject: a\n\na\n")
        let now = Int64(time(nil))
        #expect(try POP3Mailbox(path: dir).open(now: now).map(\.uidl) == ["UID1-\(now)"])
        writeTestFile(dir + "/new/101.B.host", "Subject: b\n\nb\n")
        Self.breakTmp(dir)
        #expect(try POP3Mailbox(path: dir).open(now: now + 5).map(\.uidl) == ["UID1-\(now)"])
        #expect(try POP3Mailbox(path: dir).open(now: now + 5).map(\.uidl) == ["UID1-\(now)"])
        Self.repairTmp(dir)
        #expect(try POP3Mailbox(path: dir).open(now: now + 9).map(\.uidl) == ["UID1-\(now)", "UID2-\(now)"])
    }
}
