#if canImport(Glibc)
import Glibc
#endif

/// Blocking POSIX file operations of the queue; callers run them on the NIO thread pool.
enum FileIO {
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var code: Int32
        var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
        var isNoSpace: Bool { code == ENOSPC || code == EDQUOT }
    }

    static func fail(_ operation: String, _ path: String) -> Failure {
        Failure(operation: operation, path: path, code: errno)
    }

    static func makeDirectories(_ path: String) throws(Failure) {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            prefix += prefix.isEmpty && path.hasPrefix("/") ? "/" : (prefix.isEmpty ? "" : "/")
            prefix += component
            if component.isEmpty { continue }
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST { throw fail("mkdir", prefix) }
        }
    }

    static func openForAppend(_ path: String, create: Bool) throws(Failure) -> Int32 {
        let flags = O_WRONLY | O_CLOEXEC | (create ? (O_CREAT | O_EXCL) : 0)
        let fd = open(path, flags, 0o640)
        if fd < 0 { throw fail("open", path) }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(fd, buffer.baseAddress! + written, bytes.count - written, off_t(offset + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw fail("write", path)
            }
            written += result
        }
    }

    static func dataSync(_ fd: Int32, path: String) throws(Failure) {
        if fdatasync(fd) != 0 { throw fail("fdatasync", path) }
    }

    static func fullSync(_ fd: Int32, path: String) throws(Failure) {
        if fsync(fd) != 0 { throw fail("fsync", path) }
    }

    /// fsync of a directory: makes created, renamed and removed entries durable.
    static func syncDirectory(_ path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw fail("open", path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw fail("fsync", path) }
    }

    static func readAll(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw fail("open", path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw fail("read", path)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    static func read(_ path: String, offset: Int, count: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw fail("open", path) }
        defer { close(fd) }
        var result = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = result.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw fail("read", path)
            }
            if got == 0 { throw Failure(operation: "read (short)", path: path, code: EIO) }
            done += got
        }
        return result
    }

    /// Names in a directory (without `.` and `..`), sorted; empty when it does not exist.
    static func list(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            // d_name is read in place up to its NUL: copying the whole 256-byte field reads past short
            // records at the end of readdir's buffer (a crash when that is the end of a page).
            let name = String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    static func rename(_ from: String, _ to: String) throws(Failure) {
        if Glibc.rename(from, to) != 0 { throw fail("rename", from) }
    }

    static func modificationTime(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mtim.tv_sec)
    }
}
