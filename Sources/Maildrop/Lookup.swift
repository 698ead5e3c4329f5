#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ToolSupport

/// A `lookup()` file as read once in a run: its patterns, and the file's identity (inode,
/// size, modification time) so that a changed file is read again.
final class LookupFile {
    struct Identity: Equatable {
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
    }

    /// One pattern line: its text and, for the common shapes, its `SimplePattern`.
    struct Entry {
        var source: String
        var simple: SimplePattern?
    }

    let identity: Identity
    let caseless: Bool
    let entries: [Entry]

    init(identity: Identity, caseless: Bool, bytes: [UInt8]) {
        self.identity = identity
        self.caseless = caseless
        var entries: [Entry] = []
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var l = raw[...]
            while let f = l.first, f == 0x20 || f == 0x09 { l = l.dropFirst() }
            if l.last == 0x0D { l = l.dropLast() }
            if l.isEmpty || l.first == UInt8(ascii: "#") { continue }
            let source = String(decoding: l, as: UTF8.self)
            entries.append(Entry(source: source, simple: SimplePattern(source, caseless: caseless)))
        }
        self.entries = entries
    }

    /// The identity of the file open on `fd`; nil if fstat fails.
    static func identity(of fd: Int32) -> Identity? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Identity(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                        seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec))
    }

    /// The identity of the file at `path` (following links); nil if stat fails.
    static func identity(at path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                        seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec))
    }
}

extension MaildropInterpreter {
    /// `lookup(expr, file, opts)`: each non-blank, non-comment line of the file (leading blanks
    /// removed) is a pattern tried against `expr`. The file is read once per run and again only
    /// when it changed (another inode, size or modification time).
    func lookup(_ value: String, file: String, options: String, line: Int) throws(MaildropInterruption) -> String {
        let caseless = !options.contains("D")
        let table = try lookupTable(file, caseless: caseless)
        var bytes: [UInt8]?
        for entry in table.entries {
            if let simple = entry.simple {
                if bytes == nil { bytes = Array(value.utf8) }
                switch simple.firstMatch(bytes ?? []) {
                case .match: return "1"
                case .noMatch: continue
                case .unsupported: break
                }
            }
            guard let re = compile(entry.source, caseless: caseless) else {
                throw .fatal("Bad pattern in \(file): \(entry.source)")
            }
            if Self.firstMatch(re, value) != nil { return "1" }
        }
        return "0"
    }

    /// The parsed lookup file, from the cache while the file is unchanged.
    func lookupTable(_ file: String, caseless: Bool) throws(MaildropInterruption) -> LookupFile {
        let key = (caseless ? "i" : "c") + file
        if let cached = lookupCache[key], LookupFile.identity(at: file) == cached.identity { return cached }
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .fatal("Unable to open \(file).") }
        defer { close(fd) }
        guard let identity = LookupFile.identity(of: fd), let bytes = ByteInput.readAll(fd: fd) else {
            throw .fatal("Unable to open \(file).")
        }
        let table = LookupFile(identity: identity, caseless: caseless, bytes: bytes)
        if lookupCache.count >= 100 { lookupCache.removeAll() }
        lookupCache[key] = table
        return table
    }
}
