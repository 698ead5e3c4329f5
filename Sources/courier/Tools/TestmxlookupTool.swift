import DNS
import Delivery
import MailConfig
import NIOCore
import NIOPosix
import ToolSupport

/// `testmxlookup [@ip[,ip…]] DOMAIN` (spec/mta.md §5.3.8): the relays mail to DOMAIN would try,
/// in order, one line per address, as Courier prints them. Name servers: `@ip` (port 53, as
/// Courier), else `DNS_SERVER` (`host:port` list), else /etc/resolv.conf. Errors go to stdout
/// with exit 1, as Courier does. The MTA-STS options are not implemented.
enum TestmxlookupTool {
    static let entry = ToolEntry(name: "testmxlookup", summary: "show the mail relays of a domain, in delivery order") { run($0) }

    static let usage = """
        Usage: testmxlookup [options] [domain]
           @ip-address          override default name server
        """

    static func run(_ arguments: [String]) -> Int32 {
        let environment = ConfigRoot.processEnvironment()
        var configuration = ResolverConfiguration.system(environment: environment)
        var words = arguments.dropFirst()
        while let word = words.first, word.hasPrefix("@") {
            words.removeFirst()
            var servers: [NameServer] = []
            for host in word.dropFirst().split(whereSeparator: { $0 == "," || $0 == " " }) {
                if (try? SocketAddress(ipAddress: String(host), port: 53)) != nil {
                    servers.append(NameServer(host: String(host)))
                } else {
                    printToStandardError("\(host): invalid IP address")
                }
            }
            configuration.servers = servers
        }
        guard words.count == 1, let domain = words.first, !domain.hasPrefix("-") else {
            printToStandardError(usage)
            return 1
        }
        guard !configuration.servers.isEmpty else {
            print("\(domain): internal error.")
            return 1
        }
        let resolver = DNSResolver(configuration: configuration)
        // Courier's resolver reads the variable itself: set, not empty and not `0` puts AAAA
        // first; unset means A first (courierd's file sets it to 1 for deliveries).
        let preferIPv6 = environment["ESMTP_PREFER_IPV6_MX"].map { !$0.isEmpty && !$0.hasPrefix("0") } ?? false
        let result: MXLookupResult
        do {
            result = try MultiThreadedEventLoopGroup.singleton.any().makeFutureWithTask {
                await resolver.mailExchangers(for: domain, preferIPv6: preferIPv6)
            }.wait()
        } catch {
            print("\(domain): internal error.")
            return 1
        }
        switch result {
        case .softError: print("\(domain): soft error.")
        case .hardError: print("\(domain): hard error.")
        case .badDNS: print("\(domain): bad DNS records (recursive CNAME).")
        case .noMail: print("\(domain): no mail.")
        case .relays(let relays):
            let router = localRouter(environment: environment)
            print("Domain \(domain):")
            for relay in relays {
                let local = router?.isLocalDomain(relay.hostname) == true ? " [ LOCAL ]" : ""
                let literal = relay.targetIsAddressLiteral ? " [ ERROR ]" : ""
                // An MX target that is an IP literal is printed the way the address is.
                let host = relay.targetIsAddressLiteral ? Self.courierAddress(relay.hostname) : relay.hostname
                print("Relay: \(host), Priority: \(relay.priority), Address: \(Self.courierAddress(relay.address))\(local)\(literal)")
            }
            return 0
        }
        return 1
    }

    /// The site's `locals`/`hosteddomains` test, when a config root is there.
    static func localRouter(environment: [String: String]) -> AddressRouter? {
        let root = ConfigRoot.resolve(explicit: nil, environment: environment)
        guard let site = try? ConfigLoader.load(root) else { return nil }
        return AddressRouter(site: site)
    }

    /// Courier keeps every address as IPv6 (its resolver is built with IPv6 everywhere) and
    /// prints an IPv4 one in its mapped form: `192.0.2.1` → `::ffff:192.0.2.1`.
    static func courierAddress(_ address: String) -> String {
        address.contains(":") ? address : "::ffff:" + address
    }
}
