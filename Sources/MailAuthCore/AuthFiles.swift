#if canImport(Glibc)
import Glibc
#endif

/// A file-system failure with the path and the system's reason.
public struct AuthFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    static func system(_ path: String, _ what: String, _ code: Int32 = errno) -> AuthFileError {
        let text = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return AuthFileError(path: path, reason: what.isEmpty ? text : "\(what): \(text)")
    }
}

/// The few synchronous file operations the userdb needs (Glibc only, so lean tools can use
/// them). Never called on an event loop.
public enum AuthFiles {
    /// Identity of a file's current version, to notice replacement (inode, size, mtime).
    public struct Version: Equatable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int
        public var modifiedNanoseconds: Int
    }

    public static func version(_ path: String) -> Version? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Version(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
                       modifiedNanoseconds: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Permission bits, or nil when the file cannot be examined.
    public static func mode(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    /// The whole file; nil when it does not exist; an error when larger than `limit`.
    public static func read(_ path: String, limit: Int) throws(AuthFileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .system(path, "cannot read")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw AuthFileError(path: path, reason: "is a directory") }
            if Int(info.st_size) > limit { throw AuthFileError(path: path, reason: "larger than \(limit) bytes") }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(0, Int(info.st_size)))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(path, "cannot read")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw AuthFileError(path: path, reason: "larger than \(limit) bytes") }
        }
    }

    /// Regular files under `directory`, recursively, skipping names that start with `.`
    /// (as Courier's makeuserdb does), sorted by path so builds are reproducible.
    public static func filesUnder(_ directory: String, depthLimit: Int = 16) throws(AuthFileError) -> [String] {
        var found: [String] = []
        try collect(directory, depth: 0, limit: depthLimit, into: &found)
        return found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func collect(_ directory: String, depth: Int, limit: Int, into found: inout [String]) throws(AuthFileError) {
        guard depth <= limit else { throw AuthFileError(path: directory, reason: "directories nested too deep") }
        guard let handle = opendir(directory) else { throw .system(directory, "cannot list") }
        var names: [String] = []
        while let entry = readdir(handle) {
            // d_name is read in place up to its NUL: copying the whole 256-byte field reads past short
            // records at the end of readdir's buffer (a crash when that is the end of a page).
            let name = String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        closedir(handle)
        for name in names {
            let path = directory + "/" + name
            if isDirectory(path) {
                try collect(path, depth: depth + 1, limit: limit, into: &found)
            } else {
                found.append(path)
            }
        }
    }

    /// Writes `bytes` to `temporary` with `mode`, fsyncs it, renames it over `path` and fsyncs
    /// the directory: readers see the old file or the new one, never a partial one.
    public static func replace(_ path: String, temporary: String, bytes: [UInt8], mode: mode_t) throws(AuthFileError) {
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system(temporary, "cannot create") }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw .system(temporary, "cannot write", code)
            }
            offset += count
        }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw .system(temporary, "cannot fsync", code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .system(path, "cannot rename \(temporary) to it", code)
        }
        syncDirectory(of: path)
    }

    /// fsync of the directory holding `path` (makes a rename durable).
    public static func syncDirectory(of path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// An exclusive `flock` on `path` (created if missing), held until `release`.
    public struct Lock: ~Copyable {
        let fd: Int32

        public init(_ path: String) throws(AuthFileError) {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw .system(path, "cannot open lock file") }
            while flock(fd, LOCK_EX) != 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw .system(path, "cannot lock", code)
            }
            self.fd = fd
        }

        deinit {
            close(fd)
        }
    }
}
