import Delivery
import MailAuth
import MailConfig

/// Routing's and local delivery's view of authdaemonrc's module chain (spec/mta.md §5.2.1,
/// spec/access.md §4.1): names the userdb text does not know are looked up through every
/// module of `authmodulelist` in order, with service "courier" as Courier's local module asks
/// (authpgsql then returns PGSQL_DEFAULTDELIVERY in the maildir place).
public struct AuthModuleAccounts: ExternalAccountSource {
    public let chain: AuthChain

    public init(chain: AuthChain) {
        self.chain = chain
    }

    /// A source for `site` when its `authmodulelist` names a module besides authuserdb; nil on
    /// a userdb-only site (routing stays as it was) or when the auth configuration is bad
    /// (the SMTP and auth services report that themselves). `chain` is a live chain the caller
    /// already has (SMTP AUTH's, which follows reloads and holds the PostgreSQL pool); without
    /// one a chain of its own is built.
    public static func forSite(_ site: SiteConfig, chain: AuthChain? = nil) -> AuthModuleAccounts? {
        guard let configuration = try? AuthConfiguration.load(root: site.root),
              configuration.moduleNames.contains(where: { $0 != "authuserdb" }) else { return nil }
        if let chain { return AuthModuleAccounts(chain: chain) }
        guard let own = try? AuthConfiguration.liveChain(root: site.root, logger: .init(label: "courier.auth"),
                                                        generation: { 0 }) else { return nil }
        return AuthModuleAccounts(chain: own)
    }

    public func account(named name: String) async -> ExternalAccountAnswer {
        switch await chain.lookup(user: name, service: "courier") {
        case .temporaryFailure(let reason): return .temporaryFailure(reason)
        case .rejected: return .notFound
        case .success(let account): return Self.localAccount(account, name: name).map { .found($0) } ?? .notFound
        }
    }

    /// The delivery account: numeric uid and gid (never root) and a plain absolute home
    /// directory, by the rule userdb accounts follow (`LocalAccount.deliverable`).
    static func localAccount(_ account: AuthAccount, name: String) -> LocalAccount? {
        LocalAccount.deliverable(name: name, uid: account.uid.flatMap { UInt32($0) }, gid: account.gid.flatMap { UInt32($0) },
                                 home: account.home, maildir: account.maildir.flatMap { $0.isEmpty ? nil : $0 },
                                 quota: account.quota)
    }
}
