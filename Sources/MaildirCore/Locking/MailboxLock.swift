#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Courier's three locks on an mbox file (liblock/mail.c, tools.md §6.2), taken together:
///
/// 1. the C-Client lock `/tmp/.<dev>.<ino>` (lower-case hex), created with O_EXCL, fcntl-locked
///    and holding `<pid>:<host>`; a lock of a dead process on this host, or an empty one older
///    than 5 minutes, is removed;
/// 2. the dot-lock `<mailbox>.lock` (see `DotLock`; stale after 5 minutes); a directory without
///    write permission skips it;
/// 3. an fcntl lock on the mailbox itself (a read lock for read-only use).
///
/// One `attempt` never waits; callers retry (lockmail every 5 seconds).
public final class MailboxLock {
    public let mailboxPath: String
    /// The mailbox, open and fcntl-locked (read-write, or read-only after `readOnly` fallback).
    public private(set) var descriptor: Int32 = -1
    private var clientLockPath: String?
    private var clientLockFD: Int32 = -1
    private var dotLockPath: String?

    /// Seconds after which a dot-lock counts as stale.
    public static let dotLockTimeout: Int64 = 300

    private init(mailboxPath: String) { self.mailboxPath = mailboxPath }

    deinit { release() }

    /// Why an attempt did not get the locks.
    public enum Failure: Error, Equatable, Sendable {
        /// Someone holds a lock (or a stale one was just cleared): try again later.
        case busy
        /// The mailbox does not exist.
        case missing
        /// Another error.
        case failed(MaildirError)
    }

    /// One attempt at all three locks. With `allowReadOnly`, a mailbox that cannot be opened for
    /// writing is locked read-only (lockmail -r).
    public static func attempt(mailboxPath: String, allowReadOnly: Bool = false) -> Result<MailboxLock, Failure> {
        let lock = MailboxLock(mailboxPath: mailboxPath)
        if let failure = lock.takeClientLock() { return .failure(failure) }
        if let failure = lock.openLocked(readOnly: false) {
            guard allowReadOnly, lock.openLocked(readOnly: true) == nil else {
                lock.release()
                return .failure(failure)
            }
        }
        return .success(lock)
    }

    // MARK: 1. C-Client lock

    private func takeClientLock() -> Failure? {
        guard let st = SystemCall.status(mailboxPath) else { return errno == ENOENT ? .missing : .failed(SystemCall.failure("stat", mailboxPath)) }
        let path = "/tmp/." + String(UInt64(st.st_dev), radix: 16) + "." + String(UInt64(st.st_ino), radix: 16)
        let id = DotLock.ownerID()
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 {
            var mine = stat(), onDisk = stat()
            if !Self.fcntlLock(fd, write: true) || (try? SystemCall.writeAll(fd, id, path: path)) == nil
                || fstat(fd, &mine) != 0 || lstat(path, &onDisk) != 0
                || mine.st_dev != onDisk.st_dev || mine.st_ino != onDisk.st_ino {
                close(fd)
                return .busy
            }
            clientLockPath = path
            clientLockFD = fd
            return nil
        }
        // An existing lock: a dead owner on this host, or nobody holding it and empty and old.
        let existing = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if existing >= 0 {
            let content = (try? SystemCall.readAll(existing, path: path, limit: 511)) ?? []
            if let (pid, sameHost) = DotLock.parseOwner(content, myID: id), sameHost,
               pid != getpid(), !SystemCall.processExists(pid) {
                close(existing)
                unlink(path)
                return .busy
            }
            let held = !Self.fcntlLock(existing, write: false)
            close(existing)
            if held { return .busy }
        }
        if let lst = SystemCall.linkStatus(path), lst.st_size == 0,
           Int64(lst.st_mtim.tv_sec) + 300 < SystemCall.now().seconds {
            unlink(path)
        }
        return .busy
    }

    // MARK: 2 + 3. dot-lock and fcntl lock

    private func openLocked(readOnly: Bool) -> Failure? {
        let dotLock = mailboxPath + ".lock"
        if dotLockPath == nil {
            let t = SystemCall.now()
            let temporary = dotLock + ".\(t.seconds).\(getpid()).\(SystemCall.hostName())"
            do throws(MaildirError) {
                switch try DotLock.attempt(lockPath: dotLock, temporaryPath: temporary, staleAfter: Self.dotLockTimeout) {
                case .acquired:
                    dotLockPath = dotLock
                case .busy, .removedStale:
                    return .busy
                }
            } catch {
                // No permission to create the dot-lock: the fcntl lock alone has to do.
                let e = error.errnoValue ?? EIO
                if e != EACCES && e != EPERM && e != EROFS { return .failed(error) }
            }
        }
        let fd = Glibc.open(mailboxPath, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        if fd < 0 { return errno == ENOENT ? .missing : .failed(SystemCall.failure("open", mailboxPath)) }
        if !Self.fcntlLock(fd, write: !readOnly) {
            close(fd)
            return .busy
        }
        if descriptor >= 0 { close(descriptor) }
        descriptor = fd
        return nil
    }

    /// A non-blocking whole-file fcntl lock.
    static func fcntlLock(_ fd: Int32, write: Bool) -> Bool {
        var fl = flock()
        fl.l_type = Int16(write ? F_WRLCK : F_RDLCK)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = 0
        fl.l_len = 0
        return fcntl(fd, F_SETLK, &fl) == 0
    }

    /// Releases everything: closes the mailbox and removes lock files that still carry our id.
    public func release() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        if let path = clientLockPath, clientLockFD >= 0 {
            lseek(clientLockFD, 0, SEEK_SET)
            if let content = try? SystemCall.readAll(clientLockFD, path: path, limit: 511), content == DotLock.ownerID() {
                if ftruncate(clientLockFD, 0) == 0 { unlink(path) }
            }
            close(clientLockFD)
        }
        clientLockFD = -1
        clientLockPath = nil
        if let dot = dotLockPath { DotLock.release(lockPath: dot) }
        dotLockPath = nil
    }
}
