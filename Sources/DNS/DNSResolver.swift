// The asynchronous stub resolver: asks the configured recursive servers, retries, falls back
// to TCP on truncation, follows CNAMEs and caches results for their TTL.
import NIOCore
import NIOPosix

/// Resolves names by asking the configured servers (`ResolverConfiguration`).
public struct DNSResolver: Sendable {
    public let configuration: ResolverConfiguration
    let transport: DNSTransport
    let cache: DNSCache

    public init(configuration: ResolverConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                cacheCapacity: Int = 1000) {
        self.configuration = configuration
        self.transport = DNSTransport(group: group)
        self.cache = DNSCache(capacity: cacheCapacity)
    }

    /// Records of `type` for `name`, CNAMEs followed. Throws `DNSLookupError` for temporary
    /// failures (SERVFAIL, timeout) and for a CNAME loop.
    public func lookup(_ name: DNSName, _ type: DNSRecordType) async throws(DNSLookupError) -> DNSLookupResult {
        var current = name
        var seen: Set<DNSName> = [name]
        while true {
            let key = DNSCache.Key(name: current, type: type)
            if let cached = await cache.get(key) { return cached }
            let response = try await exchange(current, type)
            switch try DNSAnswerReader.step(for: response, name: current, type: type) {
            case .done(let result):
                await cache.put(key, result, ttl: Self.ttl(of: result, response: response))
                return result
            case .followCNAME(let target):
                guard seen.count < 16, seen.insert(target).inserted else { throw .cnameLoop }
                current = target
            }
        }
    }

    /// The addresses (A then AAAA, or AAAA first) of `name` as text.
    public func addresses(of name: DNSName, preferIPv6: Bool) async throws(DNSLookupError) -> [String] {
        var result: [String] = []
        var temporary: DNSLookupError?
        for type in preferIPv6 ? [DNSRecordType.aaaa, .a] : [.a, .aaaa] {
            do {
                if case .records(let records) = try await lookup(name, type) {
                    result += records.compactMap(DNSAddressText.address(of:))
                }
            } catch {
                if !error.isTemporary { throw error }
                temporary = error
            }
        }
        if result.isEmpty, let temporary { throw temporary }
        return result
    }

    /// One question to the servers: every server in turn, `attempts` rounds, a fresh random id
    /// each time; a truncated UDP reply is asked again over TCP.
    func exchange(_ name: DNSName, _ type: DNSRecordType) async throws(DNSLookupError) -> DNSMessage {
        let timeout = TimeAmount.seconds(Int64(configuration.timeoutSeconds))
        var lastError = DNSLookupError.timeout
        for _ in 0..<configuration.attempts {
            for server in configuration.servers {
                let address: SocketAddress
                do {
                    address = try SocketAddress(ipAddress: server.host, port: server.port)
                } catch {
                    lastError = .transport("bad server address \(server)")
                    continue
                }
                let id = UInt16.random(in: 0...UInt16.max)
                let query = DNSEncoder.query(id: id, name: name, type: type, udpPayloadSize: configuration.udpPayloadSize)
                do {
                    var bytes = try await transport.udp(query, id: id, server: address, timeout: timeout)
                    // RFC 2181 §9: a truncated reply may end mid-record; the TC bit is read from
                    // the raw header and the whole answer asked for over TCP.
                    if DNSDecoder.isTruncated(bytes) {
                        bytes = try await transport.tcp(query, id: id, server: address, timeout: timeout)
                    }
                    let message = try DNSDecoder.decode(bytes)
                    guard message.header.isResponse, Self.matches(message, name: name, type: type) else {
                        lastError = .transport("mismatched reply from \(server)")
                        continue
                    }
                    // RFC 1035 §7.1 / RFC 2308: SERVFAIL or REFUSED from one server → try the next.
                    if message.header.responseCode != .noError, message.header.responseCode != .nameError {
                        lastError = .serverFailure(message.header.responseCode)
                        continue
                    }
                    return message
                } catch let error as DNSDecodingError {
                    lastError = .transport("undecodable reply from \(server): \(error)")
                } catch DNSTransportError.timeout {
                    lastError = .timeout
                } catch {
                    lastError = .transport("\(server): \(error)")
                }
            }
        }
        throw lastError
    }

    /// RFC 5452 §9.1: the reply's question must be the one asked.
    static func matches(_ message: DNSMessage, name: DNSName, type: DNSRecordType) -> Bool {
        guard message.questions.count == 1, let question = message.questions.first else { return false }
        return question.name == name && question.type == type
    }

    /// Positive answers live for their smallest TTL; negative ones for the SOA's minimum
    /// (RFC 2308 §5), at most an hour, 60 s when the server sent no SOA.
    static func ttl(of result: DNSLookupResult, response: DNSMessage) -> UInt32 {
        switch result {
        case .records(let records):
            return min(records.map(\.ttl).min() ?? 0, 86_400)
        case .noData, .noSuchDomain:
            return min(response.authorities.first(where: { $0.type == DNSRecordType(rawValue: 6) })?.ttl ?? 60, 3600)
        }
    }
}

/// A small TTL cache of lookup results, oldest-first eviction when full.
actor DNSCache {
    struct Key: Hashable {
        let name: DNSName
        let type: DNSRecordType
    }

    let capacity: Int
    var entries: [Key: (result: DNSLookupResult, expires: NIODeadline)] = [:]

    init(capacity: Int) { self.capacity = capacity }

    func get(_ key: Key) -> DNSLookupResult? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > .now() else {
            entries[key] = nil
            return nil
        }
        return entry.result
    }

    func put(_ key: Key, _ result: DNSLookupResult, ttl: UInt32) {
        guard capacity > 0, ttl > 0 else { return }
        if entries.count >= capacity {
            let now = NIODeadline.now()
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires }) {
                entries[oldest.key] = nil
            }
        }
        entries[key] = (result, .now() + .seconds(Int64(ttl)))
    }
}
