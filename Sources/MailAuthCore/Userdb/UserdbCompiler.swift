import MailConfig
#if canImport(Glibc)
import Glibc
#endif

/// The files that belong to one userdb text source (Courier's names: `userdb` →
/// `userdb.dat`, `userdbshadow.dat`, temporaries `userdb.tmp`, `userdbshadow.tmp`, lock `userdb.lock`).
public struct UserdbPaths: Equatable, Sendable {
    /// The text file or directory of files.
    public var source: String

    public init(source: String) {
        var path = source
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.source = path
    }

    public var database: String { source + ".dat" }
    public var shadow: String { source + "shadow.dat" }
    public var temporaryDatabase: String { source + ".tmp" }
    public var temporaryShadow: String { source + "shadow.tmp" }
    public var lock: String { source + ".lock" }
}

/// What `makeuserdb` did: how many accounts it compiled and the problems it skipped
/// (`FILE:LINE: reason`), so one bad line never takes the other accounts down.
public struct UserdbCompileReport: Sendable {
    public var accounts: Int
    public var problems: [ConfigError]
}

/// Compiles userdb text into the two database files (spec/access.md §4.4 makeuserdb):
/// fields whose names end in `pw` go to `userdbshadow.dat` (mode 0600), the rest to
/// `userdb.dat` (mode 0644). Both are replaced atomically under `userdb.lock`.
public enum UserdbCompiler {
    /// Parses the source: one file, or every file under a directory (recursively, skipping
    /// dot-files, in path order). Bad lines become problems; the good lines are returned.
    public static func readSource(_ source: String) throws(AuthFileError) -> UserdbParseResult {
        let files = AuthFiles.isDirectory(source) ? try AuthFiles.filesUnder(source) : [source]
        var result = UserdbParseResult(records: [], errors: [])
        for file in files {
            guard let bytes = try AuthFiles.read(file, limit: ConfigLimits.maxUserdbBytes) else {
                throw AuthFileError(path: file, reason: "not found")
            }
            do {
                let parsed = try UserdbParser.parseReporting(bytes, file: file)
                result.records += parsed.records
                result.errors += parsed.errors
            } catch {
                result.errors.append(error)
            }
        }
        return result
    }

    /// The bytes of `userdb.dat` and `userdbshadow.dat` for `records`; a name seen twice keeps
    /// its first record and the later one is reported.
    public static func compile(_ records: [UserdbRecord]) -> (database: [UInt8], shadow: [UInt8], problems: [ConfigError]) {
        var seen: [String: UserdbRecord] = [:]
        var problems: [ConfigError] = []
        var open: [(name: [UInt8], value: [UInt8])] = []
        var secret: [(name: [UInt8], value: [UInt8])] = []
        for record in records {
            if let first = seen[record.name] {
                problems.append(ConfigError(file: record.file, line: record.line,
                                            reason: "duplicate account '\(record.name)' (first at \(first.file):\(first.line)); ignored"))
                continue
            }
            seen[record.name] = record
            let name = Array(record.name.utf8)
            if record.isUidMapping {
                open.append((name, Array((record.fields.first?.1 ?? "").utf8)))
                continue
            }
            let plain = record.fields.filter { !UserdbAccount.isSecretField($0.0) }
            let hidden = record.fields.filter { UserdbAccount.isSecretField($0.0) }
            open.append((name, Array(plain.map { $0.0 + "=" + $0.1 }.joined(separator: "|").utf8)))
            if !hidden.isEmpty {
                secret.append((name, Array(hidden.map { $0.0 + "=" + $0.1 }.joined(separator: "|").utf8)))
            }
        }
        return (UserdbDatabaseFormat.build(open), UserdbDatabaseFormat.build(secret), problems)
    }

    /// makeuserdb: checks the source (exists, no group/world permissions, no symlinks in the
    /// way), compiles it and replaces both databases under the lock.
    public static func make(_ paths: UserdbPaths) throws(AuthFileError) -> UserdbCompileReport {
        guard let mode = AuthFiles.mode(paths.source) else {
            throw AuthFileError(path: paths.source, reason: "not found.")
        }
        if mode & 0o077 != 0 {
            throw AuthFileError(path: paths.source, reason: "MAY NOT HAVE GROUP OR WORLD PERMISSIONS!! (chmod go-rwx \(paths.source))")
        }
        for path in [paths.source, paths.database, paths.shadow] where AuthFiles.isSymlink(path) {
            throw AuthFileError(path: path, reason: "is a symbolic link; refusing to replace it")
        }
        let lock = try AuthFiles.Lock(paths.lock)
        let parsed = try readSource(paths.source)
        let compiled = compile(parsed.records)
        // The shadow first: readers (UserdbStore) watch only userdb.dat and reopen both files
        // when it changes, so the new shadow must be in place before the new database appears.
        try AuthFiles.replace(paths.shadow, temporary: paths.temporaryShadow, bytes: compiled.shadow, mode: 0o600)
        try AuthFiles.replace(paths.database, temporary: paths.temporaryDatabase, bytes: compiled.database, mode: 0o644)
        _ = consume lock
        let accounts = parsed.records.filter { !$0.isUidMapping }.count - compiled.problems.count
        return UserdbCompileReport(accounts: accounts, problems: parsed.errors + compiled.problems)
    }
}
