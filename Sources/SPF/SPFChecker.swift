// RFC 7208 §4: check_host(), with the processing limits of §4.6.4 (10 DNS-querying terms,
// 2 void lookups, 10 MX or PTR names per term).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNS

/// The result of one SPF check, with the text a reply or a `Received-SPF:` header shows.
public struct SPFOutcome: Sendable, Equatable {
    public var result: SPFResult
    /// The domain's explanation (`exp=`) for a fail, or our own words for any result.
    public var explanation: String

    public init(result: SPFResult, explanation: String) {
        self.result = result
        self.explanation = explanation
    }
}

/// Evaluates SPF records through the asynchronous resolver.
public struct SPFChecker: Sendable {
    let resolver: DNSResolver
    /// Our own host name, for `%{r}` in explanations.
    let receiver: String

    public init(resolver: DNSResolver, receiver: String) {
        self.resolver = resolver
        self.receiver = receiver
    }

    /// check_host(ip, domain, sender) for an identity: MAIL FROM (`sender` = the address,
    /// `domain` its domain) or HELO (`sender` = `postmaster@helo`, `domain` = helo).
    /// The whole evaluation gets `timeLimit` seconds (RFC 7208 §4.6.4 suggests at least 20);
    /// past it the result is `temperror`, so a slow hostile domain cannot hold a session.
    public func check(ip: String, domain: String, sender: String, helo: String, timeLimit: Int = 20) async -> SPFOutcome {
        let client = Self.normalise(ip)
        let context = SPFMacroContext(sender: sender, domain: Self.trimDot(domain), ip: client, helo: helo, receiver: receiver,
                                      timestamp: Int(time(nil)))
        let evaluation: (SPFResult, String?) = await withTaskGroup(of: (SPFResult, String?)?.self) { group in
            group.addTask {
                var budget = Budget()
                return await checkHost(context, budget: &budget, depth: 0)
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeLimit) * 1_000_000_000)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? (.temperror, nil)
        }
        let (result, explanation) = evaluation
        return SPFOutcome(result: result, explanation: explanation ?? Self.stockText(result, domain: domain, ip: client))
    }

    struct Budget {
        var lookups = 0
        var voidLookups = 0
    }

    /// The part of the evaluation that ends it early (RFC 7208 §4.6.4, §5).
    enum Stop: Error { case temperror, permerror }

    private func checkHost(_ context: SPFMacroContext, budget: inout Budget, depth: Int) async -> (SPFResult, String?) {
        guard depth <= 10, let name = DNSName(context.domain), context.domain.contains(".") else { return (.none, nil) }
        let record: SPFRecord
        switch await fetchRecord(name) {
        case .success(nil): return (.none, nil)
        case .success(let found?): record = found
        case .failure(.temperror): return (.temperror, nil)
        case .failure(.permerror): return (.permerror, nil)
        }
        do throws(Stop) {
            for directive in record.directives {
                if directive.mechanism.countsAsLookup {
                    budget.lookups += 1
                    if budget.lookups > 10 { throw Stop.permerror }
                }
                guard try await matches(directive.mechanism, context: context, budget: &budget, depth: depth) else { continue }
                let result = directive.qualifier.result
                if result == .fail, let exp = record.explanation {
                    return (result, await explanation(exp, context: context))
                }
                return (result, nil)
            }
            if let redirect = record.redirect {
                budget.lookups += 1
                if budget.lookups > 10 { throw Stop.permerror }
                var next = context
                next.domain = try target(redirect, context: context)
                let (result, text) = await checkHost(next, budget: &budget, depth: depth + 1)
                return (result == .none ? .permerror : result, text)
            }
            return (.neutral, nil)
        } catch {
            return (error == .temperror ? .temperror : .permerror, nil)
        }
    }

    /// The domain's one SPF record, nil when it has none (RFC 7208 §4.4, §4.5).
    private func fetchRecord(_ name: DNSName) async -> Result<SPFRecord?, Stop> {
        let answer: DNSLookupResult
        do {
            answer = try await resolver.lookup(name, .txt)
        } catch {
            return .failure(error.isTemporary ? .temperror : .permerror)
        }
        guard case .records(let records) = answer else { return .success(nil) }
        var spf: [String] = []
        for record in records {
            guard case .txt(let strings) = record.data else { continue }
            // RFC 7208 §3.3: the strings of one record are joined without spaces.
            let text = String(decoding: strings.joined(), as: UTF8.self)
            if SPFRecord.isSPF(text) { spf.append(text) }
        }
        guard !spf.isEmpty else { return .success(nil) }
        guard spf.count == 1, let parsed = SPFRecord.parse(spf[0]) else { return .failure(.permerror) }
        return .success(parsed)
    }

    private func matches(_ mechanism: SPFMechanism, context: SPFMacroContext, budget: inout Budget,
                         depth: Int) async throws(Stop) -> Bool {
        let ip = context.ip
        let isIPv6 = context.isIPv6
        switch mechanism {
        case .all:
            return true
        case .ip4(let network, let prefix):
            guard !isIPv6, let address = IPAddressBytes.ipv4(ip) else { return false }
            return Self.inNetwork(address, network, prefix: prefix)
        case .ip6(let network, let prefix):
            guard isIPv6, let address = IPAddressBytes.ipv6(ip) else { return false }
            return Self.inNetwork(address, network, prefix: prefix)
        case .a(let spec, let cidr4, let cidr6):
            let domain = try spec.map { spec throws(Stop) in try target(spec, context: context) } ?? context.domain
            let addresses = try await addresses(of: domain, ipv6: isIPv6, budget: &budget)
            return addresses.contains { Self.contains($0, ip: ip, cidr4: cidr4, cidr6: cidr6) }
        case .mx(let spec, let cidr4, let cidr6):
            let domain = try spec.map { spec throws(Stop) in try target(spec, context: context) } ?? context.domain
            guard let name = DNSName(domain) else { return false }
            let answer: DNSLookupResult
            do {
                answer = try await resolver.lookup(name, .mx)
            } catch {
                throw (error.isTemporary ? Stop.temperror : Stop.permerror)
            }
            guard case .records(let records) = answer, !records.isEmpty else {
                try void(&budget)
                return false
            }
            var exchanges: [DNSName] = []
            for record in records {
                if case .mx(_, let exchange) = record.data, !exchange.isRoot { exchanges.append(exchange) }
            }
            // RFC 7208 §4.6.4: more than 10 MX names is a permerror.
            guard exchanges.count <= 10 else { throw .permerror }
            for exchange in exchanges {
                let addresses = try await addresses(of: exchange, ipv6: isIPv6, budget: &budget, countVoid: false)
                if addresses.contains(where: { Self.contains($0, ip: ip, cidr4: cidr4, cidr6: cidr6) }) { return true }
            }
            return false
        case .ptr(let spec):
            let domain = (try spec.map { spec throws(Stop) in try target(spec, context: context) } ?? context.domain).lowercased()
            for name in await validatedNames(ip: ip, ipv6: isIPv6) {
                if name == domain || name.hasSuffix("." + domain) { return true }
            }
            return false
        case .exists(let spec):
            let domain = try target(spec, context: context)
            return try await !addresses(of: domain, ipv6: false, budget: &budget).isEmpty
        case .include(let spec):
            var next = context
            next.domain = try target(spec, context: context)
            switch await checkHost(next, budget: &budget, depth: depth + 1).0 {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            case .temperror: throw .temperror
            case .permerror, .none: throw .permerror
            }
        }
    }

    /// A or AAAA records of `domain` as bytes; a name without them is a void lookup.
    private func addresses(of domain: String, ipv6: Bool, budget: inout Budget,
                           countVoid: Bool = true) async throws(Stop) -> [[UInt8]] {
        guard let name = DNSName(domain) else { return [] }
        return try await addresses(of: name, ipv6: ipv6, budget: &budget, countVoid: countVoid)
    }

    private func addresses(of name: DNSName, ipv6: Bool, budget: inout Budget,
                           countVoid: Bool = true) async throws(Stop) -> [[UInt8]] {
        let answer: DNSLookupResult
        do {
            answer = try await resolver.lookup(name, ipv6 ? .aaaa : .a)
        } catch {
            throw (error.isTemporary ? Stop.temperror : Stop.permerror)
        }
        guard case .records(let records) = answer else {
            if countVoid { try void(&budget) }
            return []
        }
        return records.compactMap { record in
            switch record.data {
            case .a(let bytes) where !ipv6: bytes
            case .aaaa(let bytes) where ipv6: bytes
            default: nil
            }
        }
    }

    private func void(_ budget: inout Budget) throws(Stop) {
        budget.voidLookups += 1
        if budget.voidLookups > 2 { throw .permerror }
    }

    /// The client's reverse names whose addresses include it (RFC 7208 §5.5), at most 10.
    private func validatedNames(ip: String, ipv6: Bool) async -> [String] {
        guard let reverse = DNSName(reverseOf: ip), case .records(let records)? = try? await resolver.lookup(reverse, .ptr) else {
            return []
        }
        let client = ipv6 ? IPAddressBytes.ipv6(ip) : IPAddressBytes.ipv4(ip)
        var names: [String] = []
        for record in records.prefix(10) {
            guard case .ptr(let target) = record.data,
                  case .records(let addresses)? = try? await resolver.lookup(target, ipv6 ? .aaaa : .a) else { continue }
            let matches = addresses.contains { record in
                switch record.data {
                case .a(let bytes), .aaaa(let bytes): bytes == client
                default: false
                }
            }
            if matches { names.append(Self.trimDot(target.description).lowercased()) }
        }
        return names
    }

    /// A domain-spec expanded, trailing dot removed, left labels dropped past 253 octets (RFC 7208 §7.3).
    private func target(_ spec: String, context: SPFMacroContext) throws(Stop) -> String {
        var domain: String
        do {
            domain = Self.trimDot(try SPFMacro.expand(spec, context: context, explanation: false))
        } catch {
            throw .permerror
        }
        while domain.utf8.count > 253, let dot = domain.firstIndex(of: ".") {
            domain = String(domain[domain.index(after: dot)...])
        }
        return domain
    }

    /// `exp=`: the TXT record of the expanded domain, itself expanded (RFC 7208 §6.2).
    private func explanation(_ spec: String, context: SPFMacroContext) async -> String? {
        guard let domain = try? target(spec, context: context), let name = DNSName(domain),
              case .records(let records)? = try? await resolver.lookup(name, .txt), records.count == 1,
              case .txt(let strings) = records[0].data else { return nil }
        let text = String(decoding: strings.joined(), as: UTF8.self)
        return try? SPFMacro.expand(text, context: context, explanation: true)
    }

    static func contains(_ address: [UInt8], ip: String, cidr4: Int, cidr6: Int) -> Bool {
        if address.count == 4, let client = IPAddressBytes.ipv4(ip) { return inNetwork(client, address, prefix: cidr4) }
        if address.count == 16, let client = IPAddressBytes.ipv6(ip) { return inNetwork(client, address, prefix: cidr6) }
        return false
    }

    static func inNetwork(_ address: [UInt8], _ network: [UInt8], prefix: Int) -> Bool {
        guard address.count == network.count else { return false }
        var bits = prefix
        for index in address.indices where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if address[index] & mask != network[index] & mask { return false }
            bits -= 8
        }
        return true
    }

    /// `::ffff:192.0.2.1` is checked as `192.0.2.1`.
    static func normalise(_ ip: String) -> String {
        let lower = ip.lowercased()
        if lower.hasPrefix("::ffff:"), IPAddressBytes.ipv4(String(lower.dropFirst(7))) != nil { return String(lower.dropFirst(7)) }
        return lower
    }

    static func trimDot(_ text: String) -> String {
        text.hasSuffix(".") ? String(text.dropLast()) : text
    }

    static func stockText(_ result: SPFResult, domain: String, ip: String) -> String {
        switch result {
        case .pass: "\(domain) designates \(ip) as a permitted sender"
        case .fail: "\(domain) does not designate \(ip) as a permitted sender"
        case .softfail: "\(domain) does not designate \(ip) as a permitted sender (softfail)"
        case .neutral: "\(domain) neither permits nor denies \(ip)"
        case .none: "\(domain) publishes no SPF record"
        case .temperror: "DNS lookup of the SPF record of \(domain) failed temporarily"
        case .permerror: "the SPF record of \(domain) is not valid"
        }
    }
}
