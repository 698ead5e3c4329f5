#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Building and installing the virtual shared folders' index (access.md §1.7 (A), Courier's
/// `sharedindexsplit` and `sharedindexinstall`).
public enum SharedIndexMaintenance {
    /// What `split` writes: per file name (`index<key>`), the bytes to append (account files,
    /// as Courier opens them for appending) or to write afresh (the group files above them).
    public struct SplitOutput: Equatable, Sendable {
        public var appended: [String: [UInt8]] = [:]
        public var replaced: [String: [UInt8]] = [:]
    }

    /// Splits an index (the output of `authenumerate -s`, one account per line) into files.
    ///
    /// - `letters > 0`: by the first `letters` characters of the account name (padded with
    ///   `_`): the account lines go to `index<prefix>`, and each shorter prefix level gets a
    ///   file of group records `<key>\t*\tindex<key>` down to `index` itself.
    /// - `letters == 0`: by the account option `sharedgroup=X` in the sixth column
    ///   (`authenumerate -s -o`): to `indexX`, accounts without one to `index`.
    ///
    /// Text from a `#` to the end of the line is dropped, lines with fewer than four fields
    /// are skipped, trailing empty fields are dropped, and the sixth field (the options) is
    /// never written out.
    public static func split(_ input: [UInt8], letters: Int) -> SplitOutput {
        var out = SplitOutput()
        var keys = Set<[Unicode.Scalar]>()
        for rawLine in input.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = rawLine
            if let hash = line.firstIndex(of: UInt8(ascii: "#")) { line = line[..<hash] }
            var fields = line.split(separator: 0x09, omittingEmptySubsequences: false).map { Array($0) }
            while let last = fields.last, last.isEmpty { fields.removeLast() }
            guard fields.count > 3 else { continue }
            var key: [Unicode.Scalar]
            if letters > 0 {
                key = Array(String(decoding: fields[0], as: UTF8.self).unicodeScalars.prefix(letters))
            } else if fields.count > 5, let group = sharedGroup(fields[5]) {
                key = Array(String(decoding: group, as: UTF8.self).unicodeScalars)
            } else {
                key = []
            }
            while key.count < letters { key.append("_") }
            keys.insert(key)
            if fields.count > 5 { fields.remove(at: 5) }
            var record = Array(fields.joined(separator: [0x09]))
            record.append(0x0A)
            out.appended[fileName(key), default: []] += record
        }
        // The group files, one level of prefixes at a time.
        var level = letters
        while level > 0 {
            level -= 1
            var groups: [[Unicode.Scalar]: [[Unicode.Scalar]]] = [:]
            for key in keys { groups[Array(key.prefix(level)), default: []].append(key) }
            for (prefix, members) in groups {
                var bytes: [UInt8] = []
                for key in members.sorted(by: { String(String.UnicodeScalarView($0)) < String(String.UnicodeScalarView($1)) }) {
                    let name = String(String.UnicodeScalarView(key))
                    bytes += Array("\(name)\t*\t\(fileName(key))\n".utf8)
                }
                out.replaced[fileName(prefix)] = bytes
            }
            keys = Set(groups.keys)
        }
        return out
    }

    /// The value of the first `sharedgroup=` option in a comma-separated option list.
    static func sharedGroup(_ options: [UInt8]) -> [UInt8]? {
        let prefix = Array("sharedgroup=".utf8)
        for option in options.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        where option.starts(with: prefix) && option.count > prefix.count {
            return Array(option.dropFirst(prefix.count))
        }
        return nil
    }

    static func fileName(_ key: [Unicode.Scalar]) -> String { "index" + String(String.UnicodeScalarView(key)) }

    /// Writes `output` into `directory`: appends to the account files, replaces the group files.
    public static func write(_ output: SplitOutput, to directory: String) throws(MaildirError) {
        for (name, bytes) in output.appended.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            let fd = try SystemCall.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
            defer { close(fd) }
            try SystemCall.writeAll(fd, bytes, path: path)
        }
        for (name, bytes) in output.replaced.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            let fd = try SystemCall.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            defer { close(fd) }
            try SystemCall.writeAll(fd, bytes, path: path)
        }
    }

    /// Why `install` refused.
    public enum InstallError: Error, Equatable {
        /// `shared.tmp` is missing or holds no file.
        case newIndexEmpty(String)
        /// `shared` does not exist.
        case noIndexDirectory(String)
    }

    /// Courier's `sharedindexinstall` on `sysconfdir`: the files of `shared.tmp/` replace those
    /// of `shared/`: first every file of `shared/` that `shared.tmp/` does not have is removed,
    /// then each file is renamed across (each index file changes atomically; servers reading
    /// meanwhile see old or new files). Names starting with `.` are left alone, as `ls` and the
    /// shell's `*` leave them.
    public static func install(sysconfdir: String) throws(InstallError) {
        let shared = sysconfdir + "/shared", incoming = sysconfdir + "/shared.tmp"
        let newNames = visibleNames(incoming)
        guard !newNames.isEmpty else { throw .newIndexEmpty(incoming) }
        guard SystemCall.isDirectory(shared) else { throw .noIndexDirectory(shared) }
        for name in visibleNames(shared) {
            var st = stat()
            let isFile = stat(incoming + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
            if !isFile { unlink(shared + "/" + name) }
        }
        for name in newNames {
            _ = rename(incoming + "/" + name, shared + "/" + name)
        }
    }

    static func visibleNames(_ directory: String) -> [String] {
        SystemCall.names(in: directory).filter { !$0.hasPrefix(".") }.sorted()
    }
}
