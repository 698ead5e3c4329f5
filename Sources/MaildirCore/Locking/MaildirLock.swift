#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The per-folder lock Courier-IMAP takes (IMAP_USELOCKS=1) around every rescan that may assign
/// UIDs or rewrite `courierimapuiddb` and keywords: the dot-lock `<folder>/tmp/courier.lock`,
/// created through a unique `tmp/…_courierlock.<host>` file; a lock older than 120 seconds or of a
/// dead process on this host is stale (maildir/maildirlock.C).
public enum MaildirLock {
    /// Seconds after which another host's lock counts as stale (Courier's LOCK_TIMEOUT).
    public static let staleAfter: Int64 = 120

    /// The lock file of a folder (or of INBOX: the maildir itself).
    public static func lockPath(folderPath: String) -> String { folderPath + "/tmp/courier.lock" }

    /// Runs `body` while holding the folder's lock; waits up to `timeoutSeconds` for it.
    public static func withLock<T>(folderPath: String, timeoutSeconds: Int64 = 300,
                                   _ body: () throws(MaildirError) -> T) throws(MaildirError) -> T {
        let lock = lockPath(folderPath: folderPath)
        let host = UniqueName.escapeHost(SystemCall.hostName())
        try DotLock.acquire(lockPath: lock, temporaryPath: { temporaryPath(folderPath: folderPath, host: host) },
                            staleAfter: staleAfter, timeoutSeconds: timeoutSeconds)
        defer { DotLock.release(lockPath: lock) }
        return try body()
    }

    /// Runs `body` under the folder's lock if the lock can be had at once (a stale lock is
    /// removed first); returns nil without running it when another session holds the lock.
    /// For callers that must not sleep while they wait (a server's thread pool): they retry
    /// later, on a timer of their own.
    public static func withLockIfFree<T>(folderPath: String,
                                         _ body: () throws(MaildirError) -> T) throws(MaildirError) -> T? {
        let lock = lockPath(folderPath: folderPath)
        let host = UniqueName.escapeHost(SystemCall.hostName())
        // A removed stale lock is retried at once; a few rounds bound a lock that keeps coming back.
        for _ in 0..<4 {
            switch try DotLock.attempt(lockPath: lock, temporaryPath: temporaryPath(folderPath: folderPath, host: host),
                                       staleAfter: staleAfter) {
            case .acquired:
                defer { DotLock.release(lockPath: lock) }
                return try body()
            case .busy:
                return nil
            case .removedStale:
                continue
            }
        }
        return nil
    }

    /// The unique `tmp/` file a lock is created through (`…_courierlock.<host>`).
    private static func temporaryPath(folderPath: String, host: String) -> String {
        let t = SystemCall.now()
        let name = UniqueName(seconds: t.seconds, microseconds: t.microseconds, pid: getpid(),
                              uniq: "courierlock", host: host)
        return folderPath + "/tmp/" + name.temporaryName
    }
}

/// An exclusive `flock()` on a maildir's top directory, held while `maildirsize` is checked,
/// appended to or recalculated together with the message operation it accounts for.
///
/// Courier itself takes no lock here and lives with an estimate; holding this lock makes our own
/// deliveries, flag changes, expunges and recalculations keep `maildirsize` exact. It creates no
/// file, so Courier's programs are unaffected by it.
public enum QuotaLock {
    /// Runs `body` while holding the lock on `maildirPath` (the top maildir, not a folder).
    public static func withLock<T>(maildirPath: String, _ body: () throws(MaildirError) -> T) throws(MaildirError) -> T {
        let fd = Glibc.open(maildirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return try body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { return try body() }
        }
        // No flock(LOCK_UN): the close above releases the lock (the descriptor is this call's
        // own, close-on-exec), one system call less per delivery.
        return try body()
    }
}

/// A `flock()` on a folder's `cur/` directory that keeps a folder scan from reading the directory
/// while a message in it is being renamed: readdir() racing with rename() may return neither the
/// old nor the new name, and the scan would then think the message was expunged and give it a new
/// UID. Flag changes take it shared (they may run together), the scan's listing exclusive.
/// It creates no file; Courier's programs do not take it.
public enum CurDirectoryLock {
    public static func withLock<T>(folderPath: String, exclusive: Bool,
                                   _ body: () throws(MaildirError) -> T) throws(MaildirError) -> T {
        let fd = Glibc.open(folderPath + "/cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return try body() }
        defer { close(fd) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno != EINTR { return try body() }
        }
        defer { _ = flock(fd, LOCK_UN) }
        return try body()
    }
}
