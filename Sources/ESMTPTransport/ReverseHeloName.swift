import DNS

/// `esmtphelo` `*` (spec/mta.md §3.11, §5.3.4): the EHLO name of each connection is the reverse
/// DNS name of its local address, asked of our own resolver (the hosts file plays no part);
/// without a PTR record it is the address itself in brackets (`[192.0.2.1]`, an IPv4-mapped
/// IPv6 address written as IPv4).
public enum ReverseHeloName {
    /// The EHLO name from the first PTR target (nil: none), trailing dot removed.
    public static func name(ptr: String?, localAddress: String) -> String {
        if var name = ptr, !name.isEmpty {
            while name.hasSuffix(".") { name.removeLast() }
            if !name.isEmpty { return name }
        }
        var address = localAddress
        if address.lowercased().hasPrefix("::ffff:"), address.contains(".") { address.removeFirst(7) }
        return "[\(address)]"
    }

    /// Looks up the PTR record of `localAddress`; any failure gives the bracketed address.
    public static func lookup(_ localAddress: String, resolver: DNSResolver) async -> String {
        var address = localAddress
        if address.lowercased().hasPrefix("::ffff:"), address.contains(".") { address.removeFirst(7) }
        guard let reverse = DNSName(reverseOf: address),
              case .records(let records)? = try? await resolver.lookup(reverse, .ptr) else {
            return name(ptr: nil, localAddress: localAddress)
        }
        for record in records {
            if case .ptr(let target) = record.data { return name(ptr: target.description, localAddress: localAddress) }
        }
        return name(ptr: nil, localAddress: localAddress)
    }
}
