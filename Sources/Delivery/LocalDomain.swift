import MailConfig

extension AddressRouter {
    /// Courier's "is this host ours" test (config_islocal): `domain` matches `locals` (exact,
    /// `.domain` or `*.` entries) or `hosteddomains`. testmxlookup marks such MX hosts `[ LOCAL ]`.
    public func isLocalDomain(_ domain: String) -> Bool {
        let domain = domain.lowercased()
        return DomainMatcher.matches(domain, site.locals, hostName: hostName)
            || DomainMatcher.hosted(domain, site.hostedDomains, hostName: hostName) != nil
    }
}
