#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file advisory locks with `fcntl(F_SETLKW)`, as Courier's liblock takes them
/// (`ll_lock_ex`): an exclusive lock on the entire file, waiting until it is granted.
public enum FileLock {
    /// Locks all of `fd` exclusively, waiting for other holders; retries on EINTR.
    /// Returns false (errno set) when the lock cannot be taken.
    public static func lockExclusive(_ fd: Int32) -> Bool {
        setLock(fd, type: Int16(F_WRLCK), wait: true)
    }

    /// Takes the exclusive lock only if it is free; false (errno EAGAIN/EACCES) otherwise.
    public static func tryLockExclusive(_ fd: Int32) -> Bool {
        setLock(fd, type: Int16(F_WRLCK), wait: false)
    }

    /// Releases a lock taken on `fd`.
    @discardableResult
    public static func unlock(_ fd: Int32) -> Bool {
        setLock(fd, type: Int16(F_UNLCK), wait: false)
    }

    private static func setLock(_ fd: Int32, type: Int16, wait: Bool) -> Bool {
        var lock = flock()
        lock.l_type = type
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0
        while true {
            if fcntl(fd, wait ? F_SETLKW : F_SETLK, &lock) == 0 { return true }
            if errno == EINTR { continue }
            return false
        }
    }
}
