#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// A Courier-compatible dot-lock file (liblock `ll_dotlock`, access.md §1.12, tools.md §6.2).
///
/// The lock is taken by writing `<pid>:<hostname>` to a unique temporary file and `link()`ing it
/// to the lock name; success is confirmed by the temporary file's link count of 2 (safe on NFS).
/// A lock is stale when its owner is on this host and the process is gone, or when it is older
/// than the timeout. Threads of one process also exclude each other: Courier would treat a lock
/// carrying its own pid as left over by a recycled pid, so the process keeps a table of the locks
/// it holds and only then looks at the file.
public enum DotLock {
    /// `<pid>:<hostname>`, the content Courier writes into its lock files.
    public static func ownerID() -> [UInt8] {
        Array("\(getpid()):\(SystemCall.hostName())".utf8)
    }

    /// The outcome of one attempt.
    public enum Attempt: Equatable, Sendable {
        /// The lock is ours.
        case acquired
        /// Someone else holds it.
        case busy
        /// A stale lock was removed; try again at once.
        case removedStale
    }

    /// Lock files held by this process (paths).
    static let heldInProcess = Mutex<Set<String>>([])

    /// One attempt to create `lockPath` through `temporaryPath` (which must be unique to the
    /// caller). `staleAfter` seconds (0 = never) lets an old lock of another host be removed.
    public static func attempt(lockPath: String, temporaryPath: String,
                               staleAfter: Int64) throws(MaildirError) -> Attempt {
        let claimed = heldInProcess.withLock { held -> Bool in
            if held.contains(lockPath) { return false }
            held.insert(lockPath)
            return true
        }
        if !claimed { return .busy }
        var keepClaim = false
        defer {
            if !keepClaim { _ = heldInProcess.withLock { $0.remove(lockPath) } }
        }

        let id = ownerID()
        let fd = try SystemCall.open(temporaryPath, O_RDWR | O_CREAT | O_TRUNC, mode: 0o644)
        do throws(MaildirError) {
            try SystemCall.writeAll(fd, id, path: temporaryPath)
        } catch {
            close(fd)
            unlink(temporaryPath)
            throw error
        }
        close(fd)
        defer { unlink(temporaryPath) }

        if link(temporaryPath, lockPath) == 0 {
            if let st = SystemCall.status(temporaryPath), st.st_nlink == 2 {
                keepClaim = true
                return .acquired
            }
            return .busy
        }
        let e = errno
        if e != EEXIST { throw SystemCall.failure("link", lockPath, e) }
        return removeIfStale(lockPath: lockPath, myID: id, staleAfter: staleAfter) ? .removedStale : .busy
    }

    /// Courier's stale-lock rule: same host and dead pid (or our own pid while this process does
    /// not hold the lock: a recycled pid), or older than `staleAfter` seconds.
    static func removeIfStale(lockPath: String, myID: [UInt8], staleAfter: Int64) -> Bool {
        let fd = Glibc.open(lockPath, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return errno == ENOENT }
        defer { close(fd) }
        let content = (try? SystemCall.readAll(fd, path: lockPath, limit: 511)) ?? []
        if let (pid, sameHost) = parseOwner(content, myID: myID), sameHost {
            if pid == getpid() || !SystemCall.processExists(pid) {
                return unlink(lockPath) == 0
            }
            return false
        }
        var st = stat()
        if staleAfter > 0, fstat(fd, &st) == 0, Int64(st.st_mtim.tv_sec) < SystemCall.now().seconds - staleAfter {
            return unlink(lockPath) == 0
        }
        return false
    }

    /// Parses `<pid>:<host>`; returns the pid and whether the host part equals ours.
    static func parseOwner(_ content: [UInt8], myID: [UInt8]) -> (Int32, Bool)? {
        guard let (pid, used) = NumberText.parseSigned(content), pid > 0, pid <= Int64(Int32.max) else { return nil }
        guard let colon = content.firstIndex(of: UInt8(ascii: ":")), colon >= used,
              let myColon = myID.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return (Int32(pid), content[colon...].elementsEqual(myID[myColon...]))
    }

    /// Releases a lock taken by `attempt`: removes the file if it still carries our id.
    public static func release(lockPath: String) {
        defer { _ = heldInProcess.withLock { $0.remove(lockPath) } }
        guard let content = try? SystemCall.readFile(lockPath, limit: 511) else { return }
        if content == ownerID() { unlink(lockPath) }
    }

    /// Tries until the lock is ours, sleeping `pollMicroseconds` between attempts; gives up
    /// after `timeoutSeconds` (then `.lockTimeout`).
    public static func acquire(lockPath: String, temporaryPath: () -> String, staleAfter: Int64,
                               timeoutSeconds: Int64, pollMicroseconds: UInt32 = 20_000) throws(MaildirError) {
        let deadline = SystemCall.now().seconds + timeoutSeconds
        while true {
            switch try attempt(lockPath: lockPath, temporaryPath: temporaryPath(), staleAfter: staleAfter) {
            case .acquired: return
            case .removedStale: continue
            case .busy:
                if SystemCall.now().seconds >= deadline { throw .lockTimeout(lockPath) }
                usleep(pollMicroseconds)
            }
        }
    }
}
