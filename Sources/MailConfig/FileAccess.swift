#if canImport(Glibc)
import Glibc
#endif

/// Small synchronous file reads for the loader (Glibc only, so lean tools may use MailConfig).
/// Config files are read at start and on SIGHUP, never on an event loop.
enum FileAccess {
    enum Kind {
        case missing, file, directory, other
    }

    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Permission bits of a file, or nil when it cannot be examined.
    static func mode(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    static func isReadable(_ path: String) -> Bool {
        access(path, R_OK) == 0
    }

    /// The file's bytes; nil when it does not exist. Larger than `limit` is an error.
    static func read(_ path: String, limit: Int = ConfigLimits.maxFileBytes) throws(ConfigError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ConfigError(file: path, line: nil, reason: "cannot read: \(errorText(errno))")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw ConfigError(file: path, line: nil, reason: "is a directory, expected a file")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigError(file: path, line: nil, reason: "cannot read: \(errorText(errno))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit {
                throw ConfigError(file: path, line: nil, reason: "file is larger than \(limit) bytes")
            }
        }
        return bytes
    }

    /// The entries of a directory (without `.` and `..`).
    static func list(_ path: String) throws(ConfigError) -> [DirectorySource.Candidate] {
        guard let directory = opendir(path) else {
            throw ConfigError(file: path, line: nil, reason: "cannot list: \(errorText(errno))")
        }
        defer { closedir(directory) }
        var candidates: [DirectorySource.Candidate] = []
        while let entry = readdir(directory) {
            // d_name is read in place up to its NUL: copying the whole 256-byte field reads past short
            // records at the end of readdir's buffer (a crash when that is the end of a page).
            let name = String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name == "." || name == ".." { continue }
            var info = stat()
            let full = path + "/" + name
            guard stat(full, &info) == 0 else { continue }
            candidates.append(DirectorySource.Candidate(
                name: name, modified: Int(info.st_mtim.tv_sec),
                isRegularFile: (info.st_mode & S_IFMT) == S_IFREG))
            if candidates.count > ConfigLimits.maxDirectoryFiles {
                throw ConfigError(file: path, line: nil, reason: "more than \(ConfigLimits.maxDirectoryFiles) files")
            }
        }
        return candidates
    }

    /// A file or a directory of files, combined in file-name order: (display name, bytes).
    static func readSource(_ path: String, limit: Int = ConfigLimits.maxFileBytes) throws(ConfigError) -> [(String, [UInt8])]? {
        switch kind(path) {
        case .missing:
            return nil
        case .directory:
            let names = try DirectorySource.select(try list(path), directory: path)
            var parts: [(String, [UInt8])] = []
            for name in names {
                if let bytes = try read(path + "/" + name, limit: limit) { parts.append((path + "/" + name, bytes)) }
            }
            return parts
        case .file, .other:
            guard let bytes = try read(path, limit: limit) else { return nil }
            return [(path, bytes)]
        }
    }

    /// The machine's host name (Courier's default for `me`).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
