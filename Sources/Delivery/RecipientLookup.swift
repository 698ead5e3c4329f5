/// How a recipient address is routed, as the SMTP server needs to know at RCPT time
/// (spec/mta.md: locals, hosteddomains, esmtpacceptmailfor, aliases, userdb).
public enum RecipientRoute: Sendable, Equatable {
    /// A local mailbox or alias that exists: accept.
    case local
    /// A domain we accept mail for (esmtpacceptmailfor) but do not host: accept and relay.
    case acceptedRelay
    /// Not ours: only authenticated or RELAYCLIENT clients may relay.
    case remote
    /// One of our domains, but no such user: 550 5.1.1.
    case unknownUser
    /// The lookup backend is down: 451 4.4.3, try later.
    case temporaryFailure(String)
}

/// Decides where a recipient goes. The Delivery module implements it over the config root
/// (locals, hosteddomains, aliases, userdb/authlib); the SMTP server asks it for each RCPT.
public protocol RecipientLookup: Sendable {
    func route(_ address: String) async -> RecipientRoute
    /// The percent hack (spec/mta.md §2.12, §3.22): `user@domain` for `user%domain@ourdomain`
    /// when `domain` is in `esmtppercentrelay`, else nil.
    func percentRelayTarget(_ address: String) -> String?
    /// The address and every address its aliases lead to (for `bofh spamtrap`, which Courier
    /// checks after alias expansion).
    func expansion(of address: String) async -> [String]
    /// The answer at once when it is known without I/O (a recent lookup); nil: ask `route`.
    func cachedRoute(_ address: String) -> RecipientRoute?
}

extension RecipientLookup {
    public func percentRelayTarget(_ address: String) -> String? { nil }
    public func expansion(of address: String) async -> [String] { [address] }
    public func cachedRoute(_ address: String) -> RecipientRoute? { nil }
}
