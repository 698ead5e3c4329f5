#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailConfig

/// `var/courier.pid`: the process id of the site's running `courier start`, held under an
/// exclusive flock for as long as it runs. A second `courier start` on the same root is refused,
/// and the `make*` commands find the daemon here to tell it to reload (SIGHUP), so an edited
/// control file applies as soon as it is compiled, as with Courier.
enum DaemonPidFile {
    static func path(_ root: ConfigRoot) -> String { root.path + "/var/courier.pid" }

    /// Why a lock could not be taken.
    enum Failure: Error, CustomStringConvertible {
        case alreadyRunning(String, Int32?)
        case cannotWrite(String, Int32)

        var description: String {
            switch self {
            case .alreadyRunning(let path, let pid):
                "another courier start runs on this root (\(pid.map { "pid \($0), " } ?? "")\(path))"
            case .cannotWrite(let path, let code): "\(path): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Takes the lock and writes our pid; the descriptor stays open (and locked) until exit.
    static func acquire(_ root: ConfigRoot) throws(Failure) -> Int32 {
        let file = path(root)
        // O_NOFOLLOW: a symlink planted in var/ never makes us truncate another file.
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .cannotWrite(file, errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let pid = readPid(fd)
            close(fd)
            throw .alreadyRunning(file, pid)
        }
        let text = Array("\(getpid())\n".utf8)
        guard ftruncate(fd, 0) == 0, text.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == text.count else {
            let code = errno
            close(fd)
            throw .cannotWrite(file, code)
        }
        return fd
    }

    /// Empties and unlocks the file at shutdown. The file itself stays: unlinking it could let
    /// a starting daemon lock a file nobody else can find.
    static func release(_ fd: Int32, root: ConfigRoot) {
        _ = ftruncate(fd, 0)
        close(fd)
    }

    /// The pid of a running daemon on this root, or nil: the file is locked by someone.
    static func runningDaemon(_ root: ConfigRoot) -> Int32? {
        let fd = open(path(root), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            // Nobody holds it: a stale file from a crash.
            _ = flock(fd, LOCK_UN)
            return nil
        }
        return readPid(fd)
    }

    /// Sends SIGHUP to the running daemon, if any, and says so (for the `make*` commands).
    /// `quiet`: no line when it worked (`courier clear` prints Courier's own words only).
    static func signalReload(_ root: ConfigRoot, tool: String, quiet: Bool = false) {
        guard let pid = runningDaemon(root) else { return }
        if kill(pid, SIGHUP) == 0 {
            if !quiet { print("\(tool): told the running courier (pid \(pid)) to reload") }
        } else {
            printToStandardError("\(tool): cannot signal courier (pid \(pid)): \(String(cString: strerror(errno))); send it SIGHUP")
        }
    }

    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard let pid = Int32(text), pid > 0 else { return nil }
        return pid
    }
}
