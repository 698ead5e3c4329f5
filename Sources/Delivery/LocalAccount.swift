#if canImport(Glibc)
import Glibc
#endif
import MailConfig

/// A mailbox owner that local delivery can deliver to: a userdb record or a system account.
public struct LocalAccount: Sendable, Equatable {
    /// The account name (`user` for `locals`, `user@domain` for hosted domains).
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    public var home: String
    /// The default mailbox from the account (userdb `mail`), if any.
    public var maildir: String?
    /// Maildir++ quota string (userdb `quota`), if any.
    public var quota: String?

    public init(name: String, uid: UInt32, gid: UInt32, home: String, maildir: String? = nil, quota: String? = nil) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.maildir = maildir
        self.quota = quota
    }

    /// An account delivery may use, from any source (userdb, the auth modules): never uid 0, and
    /// an absolute home directory without `!` (Courier's forward marker) or a line break; nil
    /// otherwise.
    public static func deliverable(name: String, uid: UInt32?, gid: UInt32?, home: String?, maildir: String?,
                                   quota: String?) -> LocalAccount? {
        guard let uid, uid != 0, let gid, let home, home.hasPrefix("/"), !home.contains("!"),
              !home.contains("\n") else { return nil }
        return LocalAccount(name: name, uid: uid, gid: gid, home: home, maildir: maildir, quota: quota)
    }
}

/// Finds accounts: the userdb text file first, then system accounts (never uid 0).
/// `defaultDomain` is authdaemonrc's `DEFDOMAIN`: a bare login `demo` also tries `demo@DEFDOMAIN`.
public struct AccountDirectory: Sendable {
    var userdb: [String: UserdbRecord] = [:]
    public var defaultDomain: String?
    public var useSystemAccounts: Bool

    public init(records: [UserdbRecord], defaultDomain: String?, useSystemAccounts: Bool = true) {
        for record in records where userdb[record.name.lowercased()] == nil {
            userdb[record.name.lowercased()] = record
        }
        // authdaemonrc writes it as `@domain`.
        self.defaultDomain = defaultDomain.map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }.flatMap { $0.isEmpty ? nil : $0 }
        self.useSystemAccounts = useSystemAccounts
    }

    public func account(named name: String) -> LocalAccount? {
        let key = name.lowercased()
        if let record = userdb[key] ?? (key.contains("@") ? nil : defaultDomain.flatMap { userdb[key + "@" + $0.lowercased()] }),
           let account = Self.account(from: record) {
            return account
        }
        guard useSystemAccounts, !name.contains("@") else { return nil }
        return Self.systemAccount(name)
    }

    static func account(from record: UserdbRecord) -> LocalAccount? {
        LocalAccount.deliverable(name: record.name, uid: record["uid"].flatMap { UInt32($0) },
                                 gid: record["gid"].flatMap { UInt32($0) }, home: record["home"],
                                 maildir: record["mail"], quota: record["quota"])
    }

    static func systemAccount(_ name: String) -> LocalAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil,
              entry.pw_uid != 0, let directory = entry.pw_dir else { return nil }
        return LocalAccount(name: name, uid: entry.pw_uid, gid: entry.pw_gid, home: String(cString: directory),
                            maildir: nil, quota: nil)
    }
}
