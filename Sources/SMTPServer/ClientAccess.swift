import MailConfig

/// What `smtpaccess` says about one client address (spec/mta.md §2.16): the most specific
/// matching rule wins; no match means allowed without relaying.
public struct ClientAccess: Sendable, Equatable {
    public var denied: Bool
    /// `RELAYCLIENT` is set for this client.
    public var relayClient: Bool
    public var variables: [String: String]

    public init(denied: Bool = false, relayClient: Bool = false, variables: [String: String] = [:]) {
        self.denied = denied
        self.relayClient = relayClient
        self.variables = variables
    }

    /// Looks up `ip` (dotted IPv4, or IPv6 text) in `rules`.
    public static func lookup(_ ip: String, in rules: [AccessRule]) -> ClientAccess {
        var best: (rule: AccessRule, specificity: Int)?
        for rule in rules {
            guard let specificity = matchSpecificity(rule.netblock, ip) else { continue }
            if best == nil || specificity > best!.specificity { best = (rule, specificity) }
        }
        guard let rule = best?.rule else { return ClientAccess() }
        switch rule.action {
        case .deny:
            return ClientAccess(denied: true)
        case .allow(let variables):
            var values: [String: String] = [:]
            for variable in variables { values[variable.name] = variable.value }
            return ClientAccess(relayClient: values["RELAYCLIENT"] != nil, variables: values)
        }
    }

    /// How specific a netblock match is (higher wins), or nil for no match.
    static func matchSpecificity(_ netblock: String, _ ip: String) -> Int? {
        if netblock == "*" { return 0 }
        if let slash = netblock.firstIndex(of: "/") {
            // CIDR (IPv4 only here).
            guard let bits = Int(netblock[netblock.index(after: slash)...]), bits >= 0, bits <= 32,
                  let network = ipv4(String(netblock[..<slash])), let address = ipv4(ip) else { return nil }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
            return (network & mask) == (address & mask) ? bits : nil
        }
        if netblock.hasPrefix(":") {
            let expanded = expandIPv6(ip)
            guard let expanded, (":" + expanded).hasPrefix(netblock.lowercased()) else { return nil }
            return netblock.count * 4
        }
        let plain = ip.hasPrefix("::ffff:") ? String(ip.dropFirst(7)) : ip
        guard plain == netblock || plain.hasPrefix(netblock + ".") else { return nil }
        return netblock.split(separator: ".").count * 8
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// `::1` → `0000:0000:0000:0000:0000:0000:0000:0001`.
    static func expandIPv6(_ text: String) -> String? {
        guard text.contains(":") else { return nil }
        let halves = text.splitAtDoubleColon()
        var groups: [Substring] = []
        if halves.count == 2 {
            let head = halves[0].isEmpty ? [] : halves[0].split(separator: ":", omittingEmptySubsequences: false)
            let tail = halves[1].isEmpty ? [] : halves[1].split(separator: ":", omittingEmptySubsequences: false)
            guard head.count + tail.count < 8 else { return nil }
            groups = head + Array(repeating: "0", count: 8 - head.count - tail.count) + tail
        } else {
            groups = text.split(separator: ":", omittingEmptySubsequences: false)
        }
        guard groups.count == 8, groups.allSatisfy({ $0.count <= 4 && UInt16($0, radix: 16) != nil }) else { return nil }
        return groups.map { String(repeating: "0", count: 4 - $0.count) + $0.lowercased() }.joined(separator: ":")
    }
}

private extension String {
    /// Splits at the first `::` (at most two parts).
    func splitAtDoubleColon() -> [String] {
        let bytes = Array(utf8)
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
                return [String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 2)...], as: UTF8.self)]
            }
            index += 1
        }
        return [self]
    }
}
