import MailAuthCore

/// `authuserdb`: accounts from the compiled userdb (`etc/userdb.dat` + `userdbshadow.dat`).
public struct UserdbModule: AuthModule {
    public let name = "authuserdb"
    public let store: UserdbStore

    public init(store: UserdbStore) {
        self.store = store
    }

    public init(source: String) {
        self.init(store: UserdbStore(source: source))
    }

    /// Ready once `userdb.dat` is mapped: a lookup is then a `stat` and reads of the mapping. Not
    /// before the first lookup, nor while there is no compiled file (the text is compiled).
    public var isReady: Bool { store.isMapped }

    public func lookup(user: String, service: String) async -> ModuleLookup {
        let found: UserdbAccount?
        do {
            found = try store.lookup(user)
        } catch {
            return .temporaryFailure("userdb: \(error)")
        }
        guard let record = found, let home = record.home else { return .notFound }
        let crypted = record.passwordField(service: service)
        var hmac: [CramAlgorithm: String] = [:]
        for algorithm in CramAlgorithm.allCases {
            if let state = record.hmacState(algorithm, service: service) { hmac[algorithm] = state }
        }
        var scram: [ScramAlgorithm: ScramCredentials] = [:]
        for algorithm in ScramAlgorithm.allCases {
            if let text = record[algorithm.userdbField], let credentials = ScramCredentials(stored: text, algorithm: algorithm) {
                scram[algorithm] = credentials
            }
        }
        let account = AuthAccount(
            address: user, uid: record.uid, gid: record.gid, home: home, maildir: record.maildir,
            quota: record.quota, fullName: record.fullName, options: AccountOptions(parsing: record.options ?? ""),
            cryptedPassword: crypted)
        return .found(StoredAccount(account: account, cryptedPassword: crypted, hmacStates: hmac, scramCredentials: scram))
    }

    public func enumerate() async -> [AuthAccount]? {
        guard let all = try? store.allAccounts() else { return nil }
        return all.compactMap { record in
            guard let home = record.home else { return nil }
            return AuthAccount(address: record.name, uid: record.uid, gid: record.gid, home: home, maildir: record.maildir,
                               quota: record.quota, options: AccountOptions(parsing: record.options ?? ""))
        }
    }
}
