import MaildirCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension MaildirLock {
    /// Runs `body` under the folder's lock if the lock can be had at once (a stale lock is
    /// removed first); returns nil without running it when another session holds the lock.
    /// For callers that must not sleep while they wait (a server's thread pool): they retry
    /// later, on a timer of their own.
    static func withLockIfFree<T>(folderPath: String,
                                         _ body: () throws(MaildirError) -> T) throws(MaildirError) -> T? {
        let lock = lockPath(folderPath: folderPath)
        let host = UniqueName.escapeHost(SystemCall.hostName())
        // A removed stale lock is retried at once; a few rounds bound a lock that keeps coming back.
        for _ in 0..<4 {
            let t = SystemCall.now()
            let name = UniqueName(seconds: t.seconds, microseconds: t.microseconds, pid: getpid(),
                                  uniq: "courierlock", host: host)
            switch try DotLock.attempt(lockPath: lock, temporaryPath: folderPath + "/tmp/" + name.temporaryName,
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
}
