import CourierDaemon
import Delivery
import MailConfig

/// INTERIM: recipient routing over `locals`/`hosteddomains`/`esmtpacceptmailfor`, `aliases`
/// and the userdb records, until the queue branch's `RecipientLookup` lands; replace its one
/// use in `SMTPListenerPlugin`.
public struct InterimRecipientLookup: RecipientLookup {
    /// Read at each lookup, so a SIGHUP reload (new userdb, locals) applies at once.
    public let store: ConfigStore

    public init(store: ConfigStore) {
        self.store = store
    }

    public func route(_ address: String) async -> RecipientRoute {
        let config = store.current
        guard let at = address.lastIndex(of: "@") else { return .unknownUser }
        let local = String(address[..<at]).lowercased()
        let domain = String(address[address.index(after: at)...]).lowercased()
        let isLocalDomain = Self.matches(domain, config.locals, me: config.me)
        let isHosted = Self.matches(domain, config.hostedDomains, me: config.me)
        if isLocalDomain || isHosted {
            let full = local + "@" + domain
            let names = Set(config.userdb.map { $0.name.lowercased() })
            if names.contains(full) || (isLocalDomain && names.contains(local)) { return .local }
            if local == "postmaster" { return .local }
            let aliasNames = Set(config.aliases.map { $0.name.lowercased() })
            if aliasNames.contains(full) || aliasNames.contains("@" + domain) || (isLocalDomain && aliasNames.contains(local)) {
                return .local
            }
            return .unknownUser
        }
        if Self.matches(domain, config.acceptMailFor, me: config.me) { return .acceptedRelay }
        return .remote
    }

    /// Courier's list matching: exact, `.subdomain`, `!excluded` (first match wins), `*` = me.
    static func matches(_ domain: String, _ patterns: [DomainPattern], me: String) -> Bool {
        for pattern in patterns {
            let hit: Bool
            switch pattern.kind {
            case .exact, .excluded: hit = domain == pattern.domain
            case .subdomains: hit = domain.hasSuffix("." + pattern.domain)
            case .hostname: hit = domain == me.lowercased()
            }
            if hit { return pattern.kind != .excluded }
        }
        return false
    }
}
