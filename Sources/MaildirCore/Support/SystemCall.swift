#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Thin, throwing wrappers over the POSIX calls MaildirCore needs. Paths are Strings (the edge
/// where bytes become names); every failure becomes `MaildirError.system` with errno.
public enum SystemCall {
    /// strerror text for `code`.
    public static func errorText(_ code: Int32) -> String {
        guard let p = strerror(code) else { return "error \(code)" }
        return String(cString: p)
    }

    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> MaildirError {
        .system(operation: operation, path: path, errno: code)
    }

    /// Seconds and microseconds since the epoch (gettimeofday).
    public static func now() -> (seconds: Int64, microseconds: Int64) {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return (Int64(tv.tv_sec), Int64(tv.tv_usec))
    }

    /// gethostname(), or `localhost` if it fails, as Courier does.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, 255) != 0 { return "localhost" }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        let name = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// stat(); nil if the path does not exist or cannot be examined.
    public static func status(_ path: String) -> stat? {
        var st = stat()
        return stat(path, &st) == 0 ? st : nil
    }

    /// lstat(); nil on failure.
    public static func linkStatus(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    public static func isDirectory(_ path: String) -> Bool {
        guard let st = status(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func makeDirectory(_ path: String, mode: mode_t) throws(MaildirError) {
        if mkdir(path, mode) != 0 { throw failure("mkdir", path) }
    }

    /// Opens `path`; the descriptor is close-on-exec.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(MaildirError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw failure("open", path) }
        }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(MaildirError) {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, base, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", path)
            }
            if n == 0 { throw failure("write", path, EIO) }
            base += n
            left -= n
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(MaildirError) {
        let result = bytes.withUnsafeBytes { raw -> MaildirError? in
            do throws(MaildirError) { try writeAll(fd, raw, path: path); return nil } catch { return error }
        }
        if let result { throw result }
    }

    public static func fsync(_ fd: Int32, path: String) throws(MaildirError) {
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw failure("fsync", path) }
        }
    }

    /// fdatasync(): the file's data and the metadata needed to read it back (its size, its
    /// blocks), not its time stamps.
    public static func dataSync(_ fd: Int32, path: String) throws(MaildirError) {
        while Glibc.fdatasync(fd) != 0 {
            if errno != EINTR { throw failure("fdatasync", path) }
        }
    }

    /// fsyncs a directory so that entries created or renamed in it survive a crash.
    public static func syncDirectory(_ path: String) throws(MaildirError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// Reads at most `limit` bytes of a file; nil if it cannot be opened.
    public static func readFile(_ path: String, limit: Int = Int.max) throws(MaildirError) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("open", path)
        }
        defer { close(fd) }
        return try readAll(fd, path: path, limit: limit)
    }

    /// Reads from `fd` until end of file or `limit` bytes. A regular file is read into a buffer
    /// of its size (plus one byte, to see the end in the same read): usually one `read`.
    /// `status` is the descriptor's `fstat` when the caller already has it (one system call less).
    public static func readAll(_ fd: Int32, path: String, limit: Int = Int.max,
                               status: stat? = nil) throws(MaildirError) -> [UInt8] {
        var st = status ?? stat()
        let sized = (status != nil || fstat(fd, &st) == 0) && st.st_mode & S_IFMT == S_IFREG && st.st_size > 0
        // (A size from fstat is not trusted to leave room for the extra byte: `< limit` first.)
        let first = sized ? (st.st_size < limit ? Int(st.st_size) + 1 : limit) : min(16 * 1024, limit)
        var result = [UInt8](repeating: 0, count: first)
        var filled = 0
        while filled < limit {
            if filled == result.count {
                result.append(contentsOf: repeatElement(0, count: min(max(result.count, 16 * 1024), limit - filled)))
            }
            let n = result.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read", path)
            }
            if n == 0 { break }
            filled += n
            // A regular file asked for one byte more than fstat's size and given no more than
            // that size is at its end: no second read(2) to see 0 (it grew if the read filled
            // the extra byte, and then the loop goes on).
            if sized && filled == Int(st.st_size) && filled < result.count { break }
        }
        result.removeLast(result.count - filled)
        return result
    }

    /// Writes `bytes` to a fresh file in `directory/tmp`-style location `temporaryPath`, fsyncs it
    /// and renames it over `path`: readers see the old or the new file, never a mixture.
    public static func replaceFile(_ path: String, temporaryPath: String, bytes: [UInt8],
                                   mode: mode_t = 0o644) throws(MaildirError) {
        let fd = try open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, mode: mode)
        do throws(MaildirError) {
            try writeAll(fd, bytes, path: temporaryPath)
            try fsync(fd, path: temporaryPath)
        } catch {
            close(fd)
            unlink(temporaryPath)
            throw error
        }
        close(fd)
        if Glibc.rename(temporaryPath, path) != 0 {
            let e = errno
            unlink(temporaryPath)
            throw failure("rename", path, e)
        }
    }

    /// One directory entry: its name and whether readdir said it is a symbolic link.
    public struct DirectoryEntry: Sendable {
        public var name: String
        public var isSymbolicLink: Bool
        public var isDirectory: Bool?
    }

    /// The entries of a directory except `.` and `..`; nil if it cannot be opened.
    public static func listDirectory(_ path: String) -> [DirectoryEntry]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(dir) {
            // d_name is read in place up to its NUL: copying the whole 256-byte field reads past short
            // records at the end of readdir's buffer (a crash when that is the end of a page).
            let name = String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name == "." || name == ".." { continue }
            let type = entry.pointee.d_type
            let isDir: Bool? = type == UInt8(DT_UNKNOWN) ? nil : type == UInt8(DT_DIR)
            entries.append(DirectoryEntry(name: name, isSymbolicLink: type == UInt8(DT_LNK), isDirectory: isDir))
        }
        return entries
    }

    /// Calls `body` with each name in a directory (except `.` and `..`), read in place from
    /// readdir's buffer (no String per entry); false if the directory cannot be opened.
    @discardableResult
    public static func forEachName(in path: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        guard let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: UInt8.self)
            let bytes = UnsafeBufferPointer(start: name, count: strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self)))
            if bytes.count == 1 && bytes[0] == UInt8(ascii: ".") { continue }
            if bytes.count == 2 && bytes[0] == UInt8(ascii: ".") && bytes[1] == UInt8(ascii: ".") { continue }
            body(bytes)
        }
        return true
    }

    /// The names in a directory (except `.` and `..`); empty if it cannot be opened.
    public static func names(in path: String) -> [String] {
        (listDirectory(path) ?? []).map(\.name)
    }

    /// Removes a directory tree (no symlinks followed). Missing paths are not an error.
    public static func removeTree(_ path: String, depth: Int = 0) throws(MaildirError) {
        guard let st = linkStatus(path) else { return }
        if (st.st_mode & S_IFMT) != S_IFDIR {
            if unlink(path) != 0 && errno != ENOENT { throw failure("unlink", path) }
            return
        }
        // Maildir trees are shallow; the bound keeps a hostile tree from recursing without end.
        if depth > 32 { throw failure("rmdir", path, ELOOP) }
        for entry in listDirectory(path) ?? [] {
            try removeTree(path + "/" + entry.name, depth: depth + 1)
        }
        if rmdir(path) != 0 && errno != ENOENT { throw failure("rmdir", path) }
    }

    /// Is process `pid` alive (kill(pid, 0) does not fail with ESRCH)?
    public static func processExists(_ pid: Int32) -> Bool {
        if pid <= 0 { return false }
        return kill(pid, 0) == 0 || errno != ESRCH
    }
}

/// Decimal and hexadecimal formatting without Foundation.
enum NumberText {
    static func decimal(_ value: Int64) -> String { String(value) }

    /// Upper-case hexadecimal, zero padded to `width` digits (Courier's V<dev>I<ino>).
    static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        if digits.count >= width { return digits }
        return String(repeating: "0", count: width - digits.count) + digits
    }

    /// `value` right-aligned in `width` columns, as printf("%12s").
    static func rightAligned(_ value: Int64, width: Int) -> String {
        let s = String(value)
        if s.count >= width { return s }
        return String(repeating: " ", count: width - s.count) + s
    }

    /// Parses an optionally signed decimal number from the start of `bytes`; returns the value
    /// and the number of bytes used, or nil. Saturates instead of overflowing.
    static func parseSigned<C: Collection>(_ bytes: C) -> (Int64, Int)? where C.Element == UInt8 {
        var index = bytes.startIndex
        var negative = false
        var used = 0
        if index != bytes.endIndex, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index = bytes.index(after: index)
            used += 1
        }
        var value: Int64 = 0
        var digits = 0
        while index != bytes.endIndex, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let d = Int64(bytes[index] - 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(d)
            value = (o1 || o2) ? Int64.max : a
            digits += 1
            used += 1
            index = bytes.index(after: index)
        }
        if digits == 0 { return nil }
        return (negative ? -value : value, used)
    }
}
