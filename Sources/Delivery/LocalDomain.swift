import MailConfig

extension AddressRouter {
    /// Courier's "is this host ours" test (config_islocal): `domain` matches `locals` (exact,
    /// `.domain` or `*.` entries) or `hosteddomains`, in any case. testmxlookup marks such MX
    /// hosts `[ LOCAL ]`, esmtp refuses to send to them, the percent hack takes only these.
    public func isLocalDomain(_ domain: String) -> Bool {
        DomainMatcher.matches(domain, site.locals, hostName: hostName)
            || DomainMatcher.hosted(domain, site.hostedDomains, hostName: hostName) != nil
    }
}
