import MailAuthCore

/// An authenticated (or looked-up) account, with the values authdaemond returns
/// (spec/access.md §4.2: `UID`, `GID`, `HOME`, `ADDRESS`, `MAILDIR`, `QUOTA`, `PASSWD`, …).
public struct AuthAccount: Equatable, Sendable {
    /// The canonical login id (`ADDRESS`).
    public var address: String
    /// Numeric uid/gid, or a system account name (`USERNAME`) instead.
    public var uid: String?
    public var gid: String?
    public var systemUser: String?
    public var home: String
    public var maildir: String?
    public var quota: String?
    public var fullName: String?
    public var options: AccountOptions
    /// The stored (hashed) password (`PASSWD`), when the module has one.
    public var cryptedPassword: String?
    /// The clear password the client gave (`PASSWD2`), on a successful plain login only.
    public var clearPassword: String?

    public init(address: String, uid: String? = nil, gid: String? = nil, systemUser: String? = nil, home: String,
                maildir: String? = nil, quota: String? = nil, fullName: String? = nil,
                options: AccountOptions = AccountOptions(), cryptedPassword: String? = nil, clearPassword: String? = nil) {
        self.address = address
        self.uid = uid
        self.gid = gid
        self.systemUser = systemUser
        self.home = home
        self.maildir = maildir
        self.quota = quota
        self.fullName = fullName
        self.options = options
        self.cryptedPassword = cryptedPassword
        self.clearPassword = clearPassword
    }

    /// The mail directory: `MAILDIR`, else `HOME/Maildir`.
    public var effectiveMaildir: String {
        if let maildir, !maildir.isEmpty { return maildir }
        return home + "/Maildir"
    }

    /// authtest's report (spec/access.md §4.5), without the first line.
    public var authtestReport: String {
        func shown(_ value: String?) -> String {
            guard let value, !value.isEmpty else { return "(none)" }
            return value
        }
        let who: String
        if let systemUser {
            who = "\(address)  (system username: \(systemUser))"
        } else {
            who = "\(address)  (uid \(uid ?? "0"), gid \(gid ?? "0"))"
        }
        return """
                 Authenticated: \(who)
                Home Directory: \(shown(home))
                       Maildir: \(shown(maildir))
                         Quota: \(shown(quota))
            Encrypted Password: \(shown(cryptedPassword))
            Cleartext Password: \(shown(clearPassword))
                       Options: \(shown(options.text))

            """
    }

    /// The account as authdaemond reports it; keys without a value are left out.
    public var daemonAccount: AuthDaemonAccount {
        AuthDaemonAccount(fields: [
            ("USERNAME", systemUser ?? ""),
            ("UID", systemUser == nil ? uid ?? "" : ""),
            ("GID", systemUser == nil ? gid ?? "" : ""),
            ("HOME", home), ("ADDRESS", address), ("NAME", fullName ?? ""), ("MAILDIR", maildir ?? ""),
            ("QUOTA", quota ?? ""), ("PASSWD", cryptedPassword ?? ""), ("PASSWD2", clearPassword ?? ""),
            ("OPTIONS", options.text),
        ])
    }

    /// authdaemond's success reply: `KEY=value` lines, keys without a value left out, then `.`.
    public var daemonReply: String {
        String(decoding: daemonAccount.encoded, as: UTF8.self)
    }
}

/// What a module knows about an account: the account data and the stored secrets that
/// can prove a login (a hash, a clear password, CRAM HMAC states, SCRAM keys).
public struct StoredAccount: Sendable {
    public var account: AuthAccount
    /// Hashed password for the requested service (userdb: `<service>pw` or `systempw`).
    public var cryptedPassword: String?
    /// Clear-text password (SQL `clear` column): allows every mechanism.
    public var clearPassword: String?
    /// CRAM HMAC states (userdb `hmac-*pw`), hex.
    public var hmacStates: [CramAlgorithm: String]
    /// SCRAM verifiers (userdb `scram-sha-1pw`, `scram-sha-256pw`).
    public var scramCredentials: [ScramAlgorithm: ScramCredentials]

    public init(account: AuthAccount, cryptedPassword: String? = nil, clearPassword: String? = nil,
                hmacStates: [CramAlgorithm: String] = [:], scramCredentials: [ScramAlgorithm: ScramCredentials] = [:]) {
        self.account = account
        self.cryptedPassword = cryptedPassword
        self.clearPassword = clearPassword
        self.hmacStates = hmacStates
        self.scramCredentials = scramCredentials
    }
}

/// One source of accounts in `authmodulelist` (authuserdb, authpgsql).
public protocol AuthModule: Sendable {
    /// The module's name in authdaemonrc (`authuserdb`).
    var name: String { get }
    /// Looks up `user` for `service` (`imap`, `pop3`, `esmtp`, `webmail`, `login`, …).
    func lookup(user: String, service: String) async -> ModuleLookup
    /// Every account (authenumerate); nil when the module cannot enumerate.
    func enumerate() async -> [AuthAccount]?
    /// False while a lookup would first load or compile the module's data (file reads a
    /// thread that must not wait should leave to a task); true by default.
    var isReady: Bool { get }
}

extension AuthModule {
    public var isReady: Bool { true }
}

/// A module's answer.
public enum ModuleLookup: Sendable {
    case found(StoredAccount)
    /// No such account here: the next module is asked.
    case notFound
    /// The module could not answer (database down, file unreadable): no further module is
    /// asked and the login fails temporarily, never as "wrong password".
    case temporaryFailure(String)
}

/// The outcome of an authentication or lookup through the module chain.
public enum AuthResult: Sendable, Equatable {
    case success(AuthAccount)
    /// Unknown user or wrong credentials (the same answer for both).
    case rejected
    /// Try again later (`TEMPFAIL`).
    case temporaryFailure(String)
}
