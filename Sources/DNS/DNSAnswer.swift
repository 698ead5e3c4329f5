// What a response says about one question, classified the way mail delivery needs it:
// "no such domain" is permanent, a server failure is temporary (RFC 5321 §5.1, RFC 2308).

/// The outcome of one lookup once CNAMEs are followed.
public enum DNSLookupResult: Hashable, Sendable {
    /// Records of the asked type (owner names may be a CNAME target's).
    case records([DNSResourceRecord])
    /// The name exists but has no record of this type (NOERROR, empty answer; RFC 2308 §2.2).
    case noData
    /// The name does not exist (NXDOMAIN; RFC 2308 §2.1): a permanent failure.
    case noSuchDomain
}

/// A lookup that failed; `isTemporary` tells a retry-later from a give-up.
public enum DNSLookupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// SERVFAIL, REFUSED or another rcode: the server could not answer now.
    case serverFailure(DNSResponseCode)
    /// No server answered in time, after every retry.
    case timeout
    /// The servers could not be reached or the answer could not be decoded.
    case transport(String)
    /// A CNAME chain that loops or is too long (Courier: "bad DNS records (recursive CNAME)").
    case cnameLoop
    /// The name is not a valid domain name.
    case badName

    public var isTemporary: Bool {
        switch self {
        case .serverFailure, .timeout, .transport: true
        case .cnameLoop, .badName: false
        }
    }

    public var description: String {
        switch self {
        case .serverFailure(let code): code == .refused ? "query refused" : "server failure, rcode \(code.rawValue)"
        case .timeout: "no answer from the name servers"
        case .transport(let reason): reason
        case .cnameLoop: "recursive CNAME"
        case .badName: "not a domain name"
        }
    }
}

/// Reading one response: pure.
public enum DNSAnswerReader {
    /// The next step after a response for (`name`, `type`).
    public enum Step: Hashable, Sendable {
        case done(DNSLookupResult)
        /// The answer ends in a CNAME whose target has no records here: ask again for it.
        case followCNAME(DNSName)
    }

    /// RFC 1034 §3.6.2 / §4.3.2: the answer section may hold the CNAME chain then the records
    /// of its final target. At most `maximumChain` CNAMEs are followed; a repeated name is a loop.
    public static func step(for response: DNSMessage, name: DNSName, type: DNSRecordType,
                            maximumChain: Int = 16) throws(DNSLookupError) -> Step {
        switch response.header.responseCode {
        case .noError, .nameError: break
        default: throw .serverFailure(response.header.responseCode)
        }
        var owner = name
        var seen: Set<DNSName> = [name]
        while true {
            let found = response.answers.filter { $0.type == type && $0.name == owner }
            if !found.isEmpty { return .done(.records(found)) }
            guard type != .cname,
                  let alias = response.answers.first(where: { $0.type == .cname && $0.name == owner }),
                  case .cname(let target) = alias.data else { break }
            guard seen.count <= maximumChain, seen.insert(target).inserted else { throw .cnameLoop }
            owner = target
        }
        if owner != name {
            // RFC 2308 §2.1: an NXDOMAIN after a CNAME is about the target; either way the
            // chain ended without data here, so the target is asked for directly.
            return .followCNAME(owner)
        }
        return .done(response.header.responseCode == .nameError ? .noSuchDomain : .noData)
    }
}

/// Printable addresses (RFC 5952 for IPv6) from record bytes.
public enum DNSAddressText {
    public static func ipv4(_ bytes: [UInt8]) -> String {
        bytes.map { String($0) }.joined(separator: ".")
    }

    /// RFC 5952 §4: lower-case hex, no leading zeros, the longest run (two or more) of zero
    /// groups, the first if tied, written `::`.
    public static func ipv6(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "" }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength, index - runStart >= 2 { bestStart = runStart; bestLength = index - runStart }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String { range.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// The address of an A or AAAA record, else nil.
    public static func address(of record: DNSResourceRecord) -> String? {
        switch record.data {
        case .a(let bytes): ipv4(bytes)
        case .aaaa(let bytes): ipv6(bytes)
        default: nil
        }
    }
}
