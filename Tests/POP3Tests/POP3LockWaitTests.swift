import Glibc
import MaildirCore
import Testing
@testable import POP3

/// Opening a maildrop while another session holds the folder's dot-lock: the steps never wait
/// (the server waits on a timer between them), and Courier's naming of `new/` files in `cur/`.
@Suite struct POP3LockWaitTests {
    /// A lock file of a live process on this host (pid 1): not stale, so it stays busy.
    static func holdLock(_ dir: String) {
        writeTestFile(MaildirLock.lockPath(folderPath: dir), "1:\(SystemCall.hostName())")
    }

    static func deliver(_ dir: String, _ name: String, _ text: String) {
        writeTestFile(dir + "/new/" + name, text)
    }

    @Test func aBusyLockMakesTheOpeningWaitWithoutSleeping() throws {
        let dir = makeTestMaildir()
        Self.deliver(dir, "1795700001.M1P1.host", "Subject: one\n\nbody\n")
        Self.holdLock(dir)
        let step = try POP3Mailbox(path: dir).beginOpen(now: 1_795_709_431)
        guard case .waitingForLock(let pending) = step else {
            Issue.record("opened although the lock is held")
            return
        }
        // new/ was moved before the lock was needed; the list is not written yet.
        #expect(SystemCall.names(in: dir + "/new").isEmpty)
        #expect(!SystemCall.exists(dir + "/" + POP3Mailbox.sizeListName))
        let again = POP3Mailbox(path: dir).continueOpen(pending)
        guard case .waitingForLock(let later) = again else {
            Issue.record("opened although the lock is still held")
            return
        }
        #expect(later.attempts == 2)
        unlink(MaildirLock.lockPath(folderPath: dir))
        guard case .opened(let listing) = POP3Mailbox(path: dir).continueOpen(later) else {
            Issue.record("still waiting after the lock was released")
            return
        }
        #expect(listing.messages.map(\.uidl) == ["UID1-1795709431"])
        #expect(SystemCall.exists(dir + "/" + POP3Mailbox.sizeListName))
        // The lock file of the other session is not ours to remove, and ours is gone.
        #expect(!SystemCall.exists(MaildirLock.lockPath(folderPath: dir)))
    }

    @Test func pastTheDeadlineTheListIsSavedWithoutTheLock() throws {
        let dir = makeTestMaildir()
        Self.deliver(dir, "1795700001.M1P1.host", "Subject: one\n\nbody\n")
        Self.holdLock(dir)
        guard case .waitingForLock(let pending) = try POP3Mailbox(path: dir).beginOpen(now: 1_795_709_431) else {
            Issue.record("opened although the lock is held")
            return
        }
        let expired = POP3PendingOpen(pass: pending.pass, now: pending.now, clock: pending.clock,
                                      deadline: SystemCall.now().seconds - 1)
        guard case .opened(let listing) = POP3Mailbox(path: dir).continueOpen(expired) else {
            Issue.record("kept waiting past the deadline")
            return
        }
        #expect(listing.messages.map(\.uidl) == ["UID1-1795709431"])
        #expect(SystemCall.exists(dir + "/" + POP3Mailbox.sizeListName))
        // The other session's lock is left alone.
        #expect(SystemCall.exists(MaildirLock.lockPath(folderPath: dir)))
    }

    @Test func anUnchangedMaildropNeedsNoLock() throws {
        let dir = makeTestMaildir()
        Self.deliver(dir, "1795700001.M1P1.host", "Subject: one\n\nbody\n")
        _ = try POP3Mailbox(path: dir).open(now: 1_795_709_431)
        Self.holdLock(dir)
        guard case .opened(let listing) = try POP3Mailbox(path: dir).beginOpen(now: 1_795_709_500) else {
            Issue.record("waited for the lock with nothing to write")
            return
        }
        #expect(listing.messages.map(\.uidl) == ["UID1-1795709431"])
    }

    @Test func aStaleLockOfADeadProcessIsTakenOver() throws {
        let dir = makeTestMaildir()
        Self.deliver(dir, "1795700001.M1P1.host", "Subject: one\n\nbody\n")
        // pid_max is at most 2^22: this pid cannot be running.
        writeTestFile(MaildirLock.lockPath(folderPath: dir), "9999999:\(SystemCall.hostName())")
        guard case .opened(let listing) = try POP3Mailbox(path: dir).beginOpen(now: 1_795_709_431) else {
            Issue.record("waited for a dead process's lock")
            return
        }
        #expect(listing.messages.count == 1)
    }

    @Test(arguments: [
        ("1795700001.M1P1.host", "1795700001.M1P1.host:2,"),
        ("1795700001.M1P1.host:2,", "1795700001.M1P1.host:2,"),
        ("1795700001.M1P1.host:2,S", "1795700001.M1P1.host:2,S"),
        ("1795700001.M1P1.host:1,experimental", "1795700001.M1P1.host:2,"),
        ("1795700001.M1P1.host:", "1795700001.M1P1.host:2,"),
        ("a:b:2,S", "a:2,"),
    ])
    func newFilesGetCourierNamesInCur(name: String, expected: String) {
        #expect(NewToCur.curName(forNew: name) == expected)
    }

    @Test func loginMovesNewMessagesUnderCourierNames() throws {
        let dir = makeTestMaildir()
        Self.deliver(dir, "1795700001.M1P1.host:1,x", "Subject: one\n\nbody\n")
        Self.deliver(dir, "1795700002.M2P1.host:2,F", "Subject: two\n\nbody\n")
        let messages = try POP3Mailbox(path: dir).open(now: 1_795_709_431)
        #expect(messages.map(\.path) == ["cur/1795700001.M1P1.host:2,", "cur/1795700002.M2P1.host:2,F"])
    }
}
