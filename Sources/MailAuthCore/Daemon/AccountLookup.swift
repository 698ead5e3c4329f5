import MailConfig

/// "Who is this user?" for the per-message tools (delivery, `maildrop -d USER`): asks the
/// authdaemon socket of `courier start` (`PRE . service user`); when no daemon runs and the
/// module list has `authuserdb`, reads the compiled userdb directly, as the daemon would.
public struct AccountLookup: Sendable {
    /// The answer.
    public enum Outcome: Equatable, Sendable {
        case found(AuthDaemonAccount)
        case notFound
        /// Nobody could answer (daemon broken, database unreadable, only SQL modules and no
        /// daemon): try again later, never "no such user".
        case temporaryFailure(String)
    }

    public let root: ConfigRoot
    public let settings: AuthDaemonSettings
    public let client: AuthDaemonClient

    public init(root: ConfigRoot, settings: AuthDaemonSettings) {
        self.root = root
        self.settings = settings
        self.client = AuthDaemonClient(socketPath: settings.socketPath)
    }

    /// Reads `etc/authdaemonrc` of `root`.
    public init(root: ConfigRoot) throws(ConfigError) {
        self.init(root: root, settings: try AuthDaemonSettings(root: root))
    }

    public func lookup(user: String, service: String = "courier") -> Outcome {
        guard AuthLimits.isAcceptableName(user) else { return .notFound }
        do {
            switch try client.lookup(user: user, service: service) {
            case .account(let account): return .found(account)
            case .fail: return .notFound
            case .incomplete: return .temporaryFailure("authdaemon: incomplete answer")
            }
        } catch .noDaemon(let reason) {
            return fromUserdb(user: user, service: service, noDaemon: reason)
        } catch {
            return .temporaryFailure(error.description)
        }
    }

    private func fromUserdb(user: String, service: String, noDaemon reason: String) -> Outcome {
        guard settings.moduleNames.first == "authuserdb" else {
            return .temporaryFailure("\(reason); authmodulelist starts with \(settings.moduleNames.first ?? "nothing"), which only the daemon can ask")
        }
        let store = UserdbStore(source: root.etc("userdb"))
        let record: UserdbAccount?
        do {
            record = try store.lookup(user)
        } catch {
            return .temporaryFailure("userdb: \(error)")
        }
        guard let record, let account = Self.account(record, user: user, service: service, defaults: settings.defaultOptions) else {
            // Not in userdb: a later module (PostgreSQL) might know the user, but only the daemon can ask it.
            return settings.moduleNames.count > 1 ? .temporaryFailure("\(reason); \(user) is not in userdb and only the daemon can ask \(settings.moduleNames.dropFirst().joined(separator: " "))") : .notFound
        }
        return .found(account)
    }

    /// The daemon's account reply for a userdb record (what authuserdb answers to PRE).
    public static func account(_ record: UserdbAccount, user: String, service: String, defaults: AccountOptions) -> AuthDaemonAccount? {
        guard let home = record.home else { return nil }
        let options = AccountOptions(parsing: record.options ?? "").merged(withDefaults: defaults)
        return AuthDaemonAccount(fields: [
            ("UID", record.uid ?? ""), ("GID", record.gid ?? ""), ("HOME", home), ("ADDRESS", user),
            ("NAME", record.fullName ?? ""), ("MAILDIR", record.maildir ?? ""), ("QUOTA", record.quota ?? ""),
            ("PASSWD", record.passwordField(service: service) ?? ""), ("OPTIONS", options.text),
        ])
    }
}
