import MailConfig

/// What `courier init` makes: the domain, whether it is the demo site, and where the services
/// listen (DESIGN.md "The config root", "The demo site").
public struct SiteOptions: Sendable, Equatable {
    /// The mail domain (`hosteddomains`, `defaultdomain`).
    public var domain: String
    /// This server's name (`me`); `mail.<domain>` unless given.
    public var hostName: String
    /// Adds the demo user and its Maildir (the demo-site contract).
    public var demo: Bool
    /// Added to every demo-contract port.
    public var portOffset: Int
    /// Listen address for every service; nil means every address (`0`).
    public var address: String?
    /// Courier's standard ports (25, 587, 465, 143, 993, 110, 995) instead of the demo ports.
    public var standardPorts: Bool
    /// Replace the files of an existing site.
    public var force: Bool

    public init(domain: String, hostName: String? = nil, demo: Bool = false, portOffset: Int = 0,
                address: String? = nil, standardPorts: Bool = false, force: Bool = false) {
        self.domain = domain.lowercased()
        self.hostName = (hostName ?? "mail." + domain).lowercased()
        self.demo = demo
        self.portOffset = portOffset
        self.address = address
        self.standardPorts = standardPorts
        self.force = force
    }

    /// The largest offset that keeps every port in range.
    public static var maxPortOffset: Int {
        65_535 - (ServiceKind.allCases.map(ConfigDefaults.demoPort).max() ?? 0)
    }

    /// The port written for a service.
    public func port(_ kind: ServiceKind) -> Int {
        standardPorts ? ConfigDefaults.courierPort(kind) : ConfigDefaults.demoPort(kind) + portOffset
    }

    /// `ADDRESS=` as written: the address, or `0` for every address.
    public var addressValue: String { address ?? "0" }

    /// Plain-text logins (no TLS) are offered only where nobody but this machine can connect.
    public var plaintextLoginAllowed: Bool {
        guard let address else { return false }
        return ListenEndpoint(address: address, port: 1).isLoopback
    }

    /// Problems with the options, in words for the command line.
    public func validate() -> [String] {
        var problems: [String] = []
        if !DomainListParser.isDomainName(domain) || !domain.contains(".") {
            problems.append("--domain \(domain): not a domain name such as example.com")
        }
        if !DomainListParser.isDomainName(hostName) {
            problems.append("--hostname \(hostName): not a host name")
        }
        if !(0...Self.maxPortOffset).contains(portOffset) {
            problems.append("--port-offset \(portOffset): must be from 0 to \(Self.maxPortOffset)")
        }
        if let address, !ListenSpec.isNumericAddress(address) {
            problems.append("--address \(address): not an IP address")
        }
        return problems
    }
}
