import MaildirCore
#if canImport(Glibc)
import Glibc
#endif

/// A login's opening of the maildrop that is waiting for the folder's dot-lock: what it read
/// so far and until when it waits. Carried from one ``POP3Mailbox/continueOpen(_:)`` to the next.
public struct POP3PendingOpen: Sendable {
    let pass: POP3Mailbox.ScanPass
    let now: Int64
    /// The clock when the opening began (what `POP3OpenCache` judges stamps by).
    let clock: Int
    /// Clock second after which the login stops waiting and saves what it found, unlocked.
    let deadline: Int64
    /// Attempts made so far (the first one included).
    public private(set) var attempts = 1

    init(pass: POP3Mailbox.ScanPass, now: Int64, clock: Int, deadline: Int64) {
        self.pass = pass
        self.now = now
        self.clock = clock
        self.deadline = deadline
    }

    func retried() -> POP3PendingOpen {
        var next = self
        next.attempts += 1
        return next
    }
}

/// Where an opening of the maildrop stands after one step: done, or waiting for the lock (the
/// caller sleeps on a timer of its own, then calls ``POP3Mailbox/continueOpen(_:)``).
public enum POP3OpenStep: Sendable {
    case opened(POP3Listing)
    case waitingForLock(POP3PendingOpen)
}

extension POP3Mailbox {
    /// Seconds a login waits for the folder lock before it goes on without it.
    public static let lockTimeout: Int64 = 30

    /// ``open(now:)`` as a listing that sessions may share (see `POP3Listing`): while the
    /// maildrop is unchanged, every login gets the same one from `POP3OpenCache`.
    ///
    /// A login that has to change the size list (the first one of a maildrop, or one that found
    /// new or vanished messages) does its work again under the folder's dot-lock
    /// (`MaildirLock`, the lock Courier-IMAP takes for its own UID database), reading `cur/` and
    /// the size list afresh: of two first logins at the same moment one creates the list and
    /// the other reads it, so both show one UIDVALIDITY and the same UIDLs. Courier's pop3d
    /// takes no lock here; a login that cannot get the lock (30 s) saves what it found, as
    /// Courier would. This synchronous form sleeps between attempts; a server uses
    /// ``beginOpen(now:)`` and ``continueOpen(_:)`` and waits on a timer instead.
    public func openListing(now: Int64) throws(OpenError) -> POP3Listing {
        var step = try beginOpen(now: now)
        while case .waitingForLock(let pending) = step {
            usleep(20_000)
            step = continueOpen(pending)
        }
        guard case .opened(let listing) = step else { return POP3Listing(messages: [], sizeListSaveFailed: false) }
        return listing
    }

    /// The first step of a login's opening, which never waits: purges `tmp/`, moves `new/` to
    /// `cur/`, and answers from the cache or from a scan. When the size list has to be written
    /// and another session holds the folder lock, returns `.waitingForLock`.
    public func beginOpen(now: Int64) throws(OpenError) -> POP3OpenStep {
        guard SystemCall.isDirectory(path + "/cur") else { throw .noCurDirectory }
        purgeTmp(now: now)
        let moved = moveNewToCur()
        let clock = Int(SystemCall.now().seconds)
        if moved == 0, let curStamp = POP3OpenCache.Stamp(path + "/cur"),
           let listStamp = POP3OpenCache.Stamp(path + "/" + Self.sizeListName),
           let cached = POP3OpenCache.shared.lookup(path, cur: curStamp, sizeList: listStamp) {
            return .opened(cached)
        }
        let pass = scan(now: now, measured: [:])
        guard pass.changed && !pass.messages.isEmpty else { return .opened(finish(pass, clock: clock)) }
        let pending = POP3PendingOpen(pass: pass, now: now, clock: clock, deadline: Int64(clock) + Self.lockTimeout)
        return attemptLocked(pending)
    }

    /// One more attempt at the folder lock for a waiting opening; past its deadline the login
    /// saves what its first scan found without the lock.
    public func continueOpen(_ pending: POP3PendingOpen) -> POP3OpenStep {
        attemptLocked(pending.retried())
    }

    private func attemptLocked(_ pending: POP3PendingOpen) -> POP3OpenStep {
        let first = pending.pass
        let now = pending.now
        let locked: ScanPass?
        var busy = false
        do {
            locked = try MaildirLock.withLockIfFree(folderPath: path) { () throws(MaildirError) -> ScanPass in
                var again = scan(now: now, measured: first.measured)
                if again.changed && !again.messages.isEmpty { again.saved = save(again.list) }
                return again
            }
            busy = locked == nil
        } catch {
            locked = nil   // no lock to be had (tmp/ unwritable): go on without it, as Courier does
        }
        if let locked { return .opened(finish(locked, clock: pending.clock)) }
        if busy && SystemCall.now().seconds < pending.deadline { return .waitingForLock(pending) }
        var pass = first
        pass.saved = save(pass.list)
        return .opened(finish(pass, clock: pending.clock))
    }

    /// Turns a final pass into the listing: Courier's recovery when the list could not be
    /// saved, and the cache entry when nothing changed meanwhile.
    private func finish(_ final: ScanPass, clock: Int) -> POP3Listing {
        var pass = final
        switch pass.saved {
        case .written(let stamp): pass.listKnown = stamp
        case .failed:
            pass.recoverFromFailedSave(maildir: path)
            pass.curStamp = nil   // not remembered: the next login tries to save again
        case nil: break
        }
        // Remember the listing only when nothing moved into cur/ while we read it, and the size
        // list on disk is still the one it agrees with.
        let listing = POP3Listing(messages: pass.messages, sizeListSaveFailed: pass.saved == .failed)
        let curAfter = POP3OpenCache.Stamp(path + "/cur")
        let listNow = POP3OpenCache.Stamp(path + "/" + Self.sizeListName)
        POP3OpenCache.shared.store(path, cur: curAfter == pass.curStamp ? curAfter : nil,
                                   sizeList: listNow == pass.listKnown ? listNow : nil, listing: listing, now: clock)
        return listing
    }
}
