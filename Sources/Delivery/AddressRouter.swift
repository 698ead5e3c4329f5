import MailConfig
import MailQueue

/// Where an address goes after `locals`, `hosteddomains`, aliases and the account lookup.
public enum ResolvedAddress: Sendable, Equatable {
    /// A local account, with the address extension (`user-ext`) and the full recipient.
    case account(LocalAccount, extension: String, recipient: String)
    /// An alias: its targets, to be delivered in its place.
    case alias([String])
    /// One of our domains without such a user.
    case unknown
    /// Not ours.
    case remote
}

/// Routes addresses over a site's configuration (spec/mta.md §3.4, §3.5, §3.7, §5.2.1).
/// Also the `RecipientLookup` the SMTP server asks at RCPT time.
public struct AddressRouter: RecipientLookup, Sendable {
    public let site: SiteConfig
    public let accounts: AccountDirectory
    let hostName: String
    /// Alias keys (lower case, qualified) to targets; `@domain` keys for virtual domains.
    let aliases: [String: [String]]
    /// The auth modules after userdb (authpgsql), asked for names userdb does not know;
    /// nil on a userdb-only site.
    public var externalAccounts: (any ExternalAccountSource)?

    public init(site: SiteConfig, hostName: String? = nil, externalAccounts: (any ExternalAccountSource)? = nil) {
        self.externalAccounts = externalAccounts
        self.site = site
        self.hostName = hostName ?? site.me
        self.accounts = AccountDirectory(records: site.userdb, defaultDomain: site.authdaemon["DEFDOMAIN"])
        var aliases: [String: [String]] = [:]
        for entry in site.aliases {
            let key = Self.qualify(entry.name, site: site)
            aliases[key, default: []].append(contentsOf: entry.targets)
        }
        self.aliases = aliases
    }

    /// Alias keys as makealiases stores them: lower case, local names qualified with `defaultdomain`.
    static func qualify(_ name: String, site: SiteConfig) -> String {
        let lowered = name.lowercased()
        if lowered.hasPrefix("@") { return lowered }
        guard let at = lowered.lastIndex(of: "@") else { return lowered + "@" + site.defaultDomain.lowercased() }
        let domain = String(lowered[lowered.index(after: at)...])
        if DomainMatcher.matches(domain, site.locals, hostName: site.me) {
            return String(lowered[..<at]) + "@" + site.defaultDomain.lowercased()
        }
        return lowered
    }

    public func route(_ address: String) async -> RecipientRoute {
        let resolved: ResolvedAddress
        switch await resolveThroughAuth(address) {
        case .temporaryFailure(let reason): return .temporaryFailure(reason)
        case .resolved(let answer): resolved = answer
        }
        switch resolved {
        case .account, .alias: return .local
        case .unknown: return .unknownUser
        case .remote:
            let domain = Self.split(address).domain ?? ""
            return DomainMatcher.matches(domain, site.acceptMailFor, hostName: hostName) ? .acceptedRelay : .remote
        }
    }

    /// `domain` is listed in `esmtppercentrelay` (the esmtp output's reverse percent hack).
    public func isPercentRelayDomain(_ domain: String) -> Bool {
        !site.percentRelay.isEmpty && DomainMatcher.matches(domain, site.percentRelay, hostName: hostName)
    }

    public func percentRelayTarget(_ address: String) -> String? {
        guard !site.percentRelay.isEmpty else { return nil }
        let (local, domain) = Self.split(address)
        guard let domain, let percent = local.lastIndex(of: "%"), isLocalDomain(domain) else { return nil }
        let user = local[..<percent], target = local[local.index(after: percent)...].lowercased()
        guard !user.isEmpty, !target.isEmpty, !user.contains("@"), !user.contains("!"),
              DomainMatcher.matches(target, site.percentRelay, hostName: hostName) else { return nil }
        return user + "@" + target
    }

    public func expansion(of address: String) async -> [String] {
        expand(address)
    }

    /// `address` and what its aliases lead to, breadth first, at most 8 levels and 1,000
    /// addresses; an unqualified target gets the `me` domain (Courier's rule for local names).
    public func expand(_ address: String) -> [String] {
        var seen: Set<String> = [address.lowercased()]
        var result = [address]
        var level = [address]
        for _ in 0..<8 where !level.isEmpty && result.count < 1000 {
            var next: [String] = []
            for current in level {
                guard case .alias(let targets) = resolve(current) else { continue }
                for target in targets {
                    let bare = target.hasPrefix("|") || target.hasPrefix("/") || target.hasPrefix("./")
                    guard !bare else { continue }
                    let qualified = target.contains("@") ? target : target + "@" + site.me
                    if seen.insert(qualified.lowercased()).inserted && result.count < 1000 {
                        result.append(qualified)
                        next.append(qualified)
                    }
                }
            }
            level = next
        }
        return result
    }

    static func split(_ address: String) -> (local: String, domain: String?) {
        var text = Substring(address)
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = text.dropFirst().dropLast() }
        guard let at = text.lastIndex(of: "@") else { return (String(text), nil) }
        return (String(text[..<at]), String(text[text.index(after: at)...]).lowercased())
    }

    /// Decides what an address is: alias first (they override accounts), then accounts with
    /// extension search, then hosted-domain catch-alls.
    public func resolve(_ address: String) -> ResolvedAddress {
        switch firstPass(address) {
        case .decided(let answer): answer
        case .noUserdbAccount(let query): lastPass(query)
        }
    }

    /// An address of ours whose name no userdb account has: what the external account modules
    /// are asked about, before `@domain` aliases and the hosted catch-all decide.
    struct AccountQuery {
        var local: String
        /// The account domain of a hosted domain; nil for `locals`.
        var hostedDomain: String?
        /// The address's domain (nil: an unqualified address).
        var domain: String?
        var recipient: String
    }

    /// `resolve` up to the userdb account lookup: aliases, then accounts (with extension search).
    enum FirstPass {
        case decided(ResolvedAddress)
        case noUserdbAccount(AccountQuery)
    }

    func firstPass(_ address: String) -> FirstPass {
        let (rawLocal, domain) = Self.split(address)
        var local = rawLocal
        if local.hasPrefix("\"") && local.hasSuffix("\"") && local.count >= 2 { local = String(local.dropFirst().dropLast()) }
        if local.isEmpty || local.contains("!") { return .decided(.remote) }
        if local.lowercased() == "postmaster" { local = "postmaster" }
        var hostedDomain: String?
        if let domain {
            if DomainMatcher.matches(domain, site.locals, hostName: hostName) {
                hostedDomain = nil
            } else if let hosted = DomainMatcher.hosted(domain, site.hostedDomains, hostName: hostName) {
                hostedDomain = hosted
            } else {
                if let targets = aliases[address.lowercased()] { return .decided(.alias(targets)) }
                return .decided(.remote)
            }
        }
        if local.hasPrefix(".") { return .decided(.unknown) }
        let key = Self.qualify(hostedDomain.map { local + "@" + $0 } ?? local, site: site)
        if let targets = aliases[key] { return .decided(.alias(targets)) }
        let recipient = local + "@" + (hostedDomain ?? domain ?? site.defaultDomain)
        if let found = findAccount(local: local, domain: hostedDomain) {
            return .decided(.account(found.0, extension: found.1, recipient: recipient))
        }
        return .noUserdbAccount(AccountQuery(local: local, hostedDomain: hostedDomain, domain: domain, recipient: recipient))
    }

    /// `resolve` after the account lookups found nothing: `@domain` aliases, then the hosted
    /// domain's catch-all account (`alias@domain` with a `.courier-` file for the name).
    func lastPass(_ query: AccountQuery) -> ResolvedAddress {
        let local = query.local
        if let domain = query.hostedDomain ?? query.domain, let targets = aliases["@" + domain] {
            // `@domain: user` → `user-local` (spec/mta.md §3.7).
            return .alias(targets.map { target in
                target.hasSuffix("!") ? target + local : target + "-" + local
            })
        }
        if let hostedDomain = query.hostedDomain, let catchAll = accounts.account(named: "alias@" + hostedDomain),
           DotCourierFile.find(home: catchAll.home, extension: local) != nil {
            return .account(catchAll, extension: local, recipient: query.recipient)
        }
        return .unknown
    }

    /// The account names to try for a local part, longest first, with the extension each
    /// leaves (`-` and `+` separate; at most three separators inside the name).
    static func accountCandidates(_ local: String) -> [(name: String, ext: String)] {
        let separators: Set<Character> = ["-", "+"]
        var cuts: [String.Index] = []
        for index in local.indices where separators.contains(local[index]) { cuts.append(index) }
        var candidates: [(String, String)] = [(local, "")]
        for cut in cuts.reversed() {
            let name = String(local[..<cut])
            let ext = String(local[local.index(after: cut)...]).map { separators.contains($0) ? "-" : $0 }
            candidates.append((name, String(ext)))
        }
        return candidates.filter { !$0.0.isEmpty && $0.0.filter { separators.contains($0) }.count <= 3 }
    }

    /// spec/mta.md §5.2.1 step 4: the longest prefix with at most three separators that names
    /// an account; with an extension, the account's `.courier-EXT` (or a `-default`) must exist.
    func findAccount(local: String, domain: String?) -> (LocalAccount, String)? {
        for (name, ext) in Self.accountCandidates(local) {
            guard let account = accounts.account(named: domain.map { name + "@" + $0 } ?? name) else { continue }
            if ext.isEmpty || DotCourierFile.find(home: account.home, extension: ext) != nil {
                return (account, ext)
            }
        }
        return nil
    }
}

/// Matching domains against `locals`/`esmtpacceptmailfor`/`hosteddomains` lines.
enum DomainMatcher {
    static func expand(_ pattern: String, hostName: String) -> String {
        pattern.hasPrefix("*.") ? hostName.lowercased() + pattern.dropFirst(1) : pattern
    }

    /// First matching line wins; `!` lines exclude.
    static func matches(_ domain: String, _ patterns: [DomainPattern], hostName: String) -> Bool {
        let domain = domain.lowercased()
        for pattern in patterns {
            let name = expand(pattern.domain, hostName: hostName)
            switch pattern.kind {
            case .exact: if domain == name { return true }
            case .hostname: if domain == hostName.lowercased() { return true }
            case .subdomains: if domain.hasSuffix("." + name) { return true }
            case .excluded: if domain == name { return false }
            }
        }
        return false
    }

    /// The account domain for a hosted domain (its alias target if it has one).
    static func hosted(_ domain: String, _ patterns: [DomainPattern], hostName: String) -> String? {
        let domain = domain.lowercased()
        for pattern in patterns where pattern.kind == .exact || pattern.kind == .hostname {
            let name = pattern.kind == .hostname ? hostName.lowercased() : expand(pattern.domain, hostName: hostName)
            if domain == name { return pattern.target ?? name }
        }
        var suffix = Substring(domain)
        for _ in 0..<5 {
            guard let dot = suffix.firstIndex(of: ".") else { break }
            suffix = suffix[suffix.index(after: dot)...]
            for pattern in patterns where pattern.kind == .subdomains && pattern.domain == suffix {
                return pattern.target ?? "." + suffix
            }
        }
        return nil
    }
}
