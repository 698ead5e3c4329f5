// Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference, equal preferences
// in random order, the domain itself when it has no MX, nowhere for a null MX (RFC 7505).
import NIOCore

/// One address to try, in order.
public struct MXRelay: Hashable, Sendable {
    /// The MX host name (or the domain itself for an implicit MX).
    public var hostname: String
    /// The MX preference; -1 for the implicit MX, as Courier prints it.
    public var priority: Int
    public var address: String

    public init(hostname: String, priority: Int, address: String) {
        self.hostname = hostname
        self.priority = priority
        self.address = address
    }

    /// RFC 1035 §3.3.9 wants a host name as MX target; a literal address there is an error.
    public var targetIsAddressLiteral: Bool { hostname == address }
}

/// The outcome of an MX lookup, with Courier's classes (spec/mta.md §5.3.3).
public enum MXLookupResult: Hashable, Sendable {
    case relays([MXRelay])
    /// A temporary failure (SERVFAIL, timeout): try again later.
    case softError
    /// The domain does not exist or has no address at all: permanent.
    case hardError
    /// RFC 7505 null MX: the domain accepts no mail.
    case noMail
    /// A CNAME loop.
    case badDNS
}

extension DNSResolver {
    /// The relays for mail to `domain`, most preferred first. AAAA addresses come before A
    /// for the same host when `preferIPv6` (Courier's ESMTP_PREFER_IPV6_MX, default on).
    public func mailExchangers(for domain: String, preferIPv6: Bool = true) async -> MXLookupResult {
        if (try? SocketAddress(ipAddress: domain, port: 0)) != nil { return .hardError }
        // spec/mta.md §5.3.3: a name without a dot gets the default domain (resolv.conf `domain`).
        let domain = configuration.qualified(domain)
        guard let name = DNSName(domain), !name.isRoot else { return .hardError }
        let mx: DNSLookupResult
        do {
            mx = try await lookup(name, .mx)
        } catch {
            return error.isTemporary ? .softError : .badDNS
        }
        switch mx {
        case .noSuchDomain, .noData:
            // RFC 5321 §5.1: no MX → the domain itself is the implicit MX, preference 0.
            do {
                let addresses = try await self.addresses(of: name, preferIPv6: preferIPv6)
                guard !addresses.isEmpty else { return .hardError }
                return .relays(addresses.map { MXRelay(hostname: domain, priority: -1, address: $0) })
            } catch {
                return error.isTemporary ? .softError : .badDNS
            }
        case .records(let records):
            var hosts: [(preference: UInt16, exchange: DNSName)] = []
            for record in records {
                guard case .mx(let preference, let exchange) = record.data else { continue }
                // RFC 7505 §3: an MX whose exchange is the root says "no mail here".
                if exchange.isRoot { return .noMail }
                hosts.append((preference, exchange))
            }
            return await relays(for: Self.ordered(hosts), preferIPv6: preferIPv6)
        }
    }

    /// RFC 5321 §5.1: ascending preference; hosts of equal preference shuffled.
    static func ordered(_ hosts: [(preference: UInt16, exchange: DNSName)]) -> [(preference: UInt16, exchange: DNSName)] {
        var groups: [UInt16: [(preference: UInt16, exchange: DNSName)]] = [:]
        for host in hosts { groups[host.preference, default: []].append(host) }
        return groups.keys.sorted().flatMap { groups[$0]?.shuffled() ?? [] }
    }

    func relays(for hosts: [(preference: UInt16, exchange: DNSName)], preferIPv6: Bool) async -> MXLookupResult {
        var relays: [MXRelay] = []
        var softError = false
        for host in hosts {
            let hostname = host.exchange.description
            let addresses: [String]
            if (try? SocketAddress(ipAddress: hostname, port: 0)) != nil {
                // Kept so that the caller can reject it (Courier prints "[ ERROR ]").
                addresses = [hostname]
            } else {
                do {
                    addresses = try await self.addresses(of: host.exchange, preferIPv6: preferIPv6)
                } catch {
                    softError = softError || error.isTemporary
                    continue
                }
            }
            for address in addresses {
                let relay = MXRelay(hostname: hostname, priority: Int(host.preference), address: address)
                if !relays.contains(relay) { relays.append(relay) }
            }
        }
        if relays.isEmpty { return softError ? .softError : .hardError }
        return .relays(relays)
    }
}
