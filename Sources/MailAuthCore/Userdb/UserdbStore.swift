import MailConfig
import Synchronization

/// Account lookups in a compiled userdb, shared by every login. Maps `userdb.dat` and
/// `userdbshadow.dat`, and maps both again when makeuserdb has replaced `userdb.dat` (one
/// `stat` per lookup; makeuserdb puts the new shadow in place first). When no compiled file
/// exists yet, the text source is compiled in memory (and again whenever it changes), so a
/// fresh site works before the first makeuserdb.
public final class UserdbStore: Sendable {
    public let paths: UserdbPaths

    private struct Loaded {
        var database: UserdbDatabaseFile?
        var shadow: UserdbDatabaseFile?
        var sourceVersion: AuthFiles.Version?
    }

    private let loaded = Mutex(Loaded())

    public init(paths: UserdbPaths) {
        self.paths = paths
    }

    public convenience init(source: String) {
        self.init(paths: UserdbPaths(source: source))
    }

    /// The account called `name`, or nil. Throws when the database cannot be read (a
    /// temporary failure for the caller, not "no such user").
    public func lookup(_ name: String) throws(AuthFileError) -> UserdbAccount? {
        let key = Array(name.utf8)
        guard !key.isEmpty, key.count <= AuthLimits.maxNameBytes else { return nil }
        let (database, shadow) = try current()
        guard let database, let open = database.value(for: key) else { return nil }
        var fields = UserdbAccount.parseFields(open)
        if let hidden = shadow?.value(for: key) {
            fields += UserdbAccount.parseFields(hidden)
        }
        return UserdbAccount(name: name, fields: fields)
    }

    /// Every account (names and non-secret fields), for enumeration.
    public func allAccounts() throws(AuthFileError) -> [UserdbAccount] {
        let (database, _) = try current()
        return (database?.allEntries() ?? []).compactMap { entry in
            let name = String(decoding: entry.name, as: UTF8.self)
            guard !name.hasSuffix("=") else { return nil }
            return UserdbAccount(name: name, fields: UserdbAccount.parseFields(entry.value))
        }
    }

    /// True when the last lookup used a mapped `userdb.dat`: the next one, unless makeuserdb
    /// ran since, reads nothing but the mapping (otherwise it maps the new files, or compiles
    /// the text source when there is no compiled file).
    public var isMapped: Bool {
        loaded.withLock { $0.database != nil && $0.sourceVersion == nil }
    }

    private func current() throws(AuthFileError) -> (UserdbDatabaseFile?, UserdbDatabaseFile?) {
        // One stat per lookup: makeuserdb replaces userdbshadow.dat before userdb.dat, so a new
        // userdb.dat means both are new, and an unchanged one leaves the cached pair valid.
        let databaseVersion = AuthFiles.version(paths.database)
        let cached = loaded.withLock { state in (state.database, state.shadow) }
        if databaseVersion != nil, cached.0?.version == databaseVersion, cached.0 != nil {
            return cached
        }
        if databaseVersion != nil {
            let database = try UserdbDatabaseFile.open(paths.database)
            // The shadow file is mode 0600: a process that may not read it sees no passwords.
            let shadow = try? UserdbDatabaseFile.open(paths.shadow)
            loaded.withLock { state in
                state.database = database
                state.shadow = shadow ?? nil
                state.sourceVersion = nil
            }
            return (database, shadow ?? nil)
        }
        return try compiledFromSource()
    }

    /// No compiled database: compile the text source in memory (cached per source version).
    private func compiledFromSource() throws(AuthFileError) -> (UserdbDatabaseFile?, UserdbDatabaseFile?) {
        guard let version = AuthFiles.version(paths.source) else { return (nil, nil) }
        let cached = loaded.withLock { state in
            state.sourceVersion == version ? (state.database, state.shadow) : nil
        }
        if let cached { return cached }
        let parsed = try UserdbCompiler.readSource(paths.source)
        let compiled = UserdbCompiler.compile(parsed.records)
        let database = UserdbDatabaseFile(bytes: compiled.database, path: paths.source)
        let shadow = UserdbDatabaseFile(bytes: compiled.shadow, path: paths.source)
        loaded.withLock { state in
            state.database = database
            state.shadow = shadow
            state.sourceVersion = version
        }
        return (database, shadow)
    }
}
