// Which name servers to ask: /etc/resolv.conf (resolv.conf(5)), or `DNS_SERVER` in the
// environment, which wins (tests point it at a private dnsmasq).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A name server: an IP address in text form and a port.
public struct NameServer: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    /// `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`; nil when the port is not a number.
    public init?(parsing text: String) {
        var host = Substring(text)
        var port = 53
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
            host = host[..<colon]
        }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// How the resolver behaves: servers, timeouts and retries (resolv.conf `options timeout:`,
/// `attempts:`), the default domain, and the EDNS0 UDP payload size advertised.
public struct ResolverConfiguration: Hashable, Sendable {
    /// The variable that overrides resolv.conf: a comma- or space-separated list of servers.
    public static let environmentVariable = "DNS_SERVER"

    public var servers: [NameServer]
    /// Seconds to wait for one UDP answer (resolv.conf default 5).
    public var timeoutSeconds: Int
    /// Rounds over the server list (resolv.conf default 2).
    public var attempts: Int
    /// RFC 6891: advertised UDP payload size, nil for plain 512-byte DNS.
    public var udpPayloadSize: UInt16?
    /// resolv.conf's `domain` (or `LOCALDOMAIN`'s first name), lower case: appended to a mail
    /// domain that has no dot, as Courier's resolver does (spec/mta.md §5.3.3). nil: none.
    public var defaultDomain: String?

    /// The variable that replaces resolv.conf's default domain (resolv.conf(5)): its first name.
    public static let localDomainVariable = "LOCALDOMAIN"

    public init(servers: [NameServer], timeoutSeconds: Int = 5, attempts: Int = 2, udpPayloadSize: UInt16? = 1232,
                defaultDomain: String? = nil) {
        self.defaultDomain = defaultDomain
        self.servers = servers
        self.timeoutSeconds = max(1, timeoutSeconds)
        self.attempts = max(1, attempts)
        self.udpPayloadSize = udpPayloadSize
    }

    /// resolv.conf(5): `nameserver` lines (at most 3 are used by libc; all are kept here),
    /// `options timeout:N attempts:N` and `domain` (the default domain; Courier's resolver reads
    /// that line only, not `search`). No server at all means the local one, as libc does.
    public static func parseResolvConf(_ text: String) -> ResolverConfiguration {
        var servers: [NameServer] = []
        var timeout = 5
        var attempts = 2
        var domain: String?
        for line in text.split(whereSeparator: { $0 == "\n" }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            if keyword == "domain" {
                domain = words.count >= 2 ? Self.domainName(words[1]) : nil
            } else if keyword == "nameserver", words.count >= 2 {
                // A scope suffix (`fe80::1%eth0`) is kept: NIO resolves it as the OS does.
                servers.append(NameServer(host: String(words[1])))
            } else if keyword == "options" {
                for option in words.dropFirst() {
                    if option.hasPrefix("timeout:"), let value = Int(option.dropFirst(8)) { timeout = min(30, value) }
                    if option.hasPrefix("attempts:"), let value = Int(option.dropFirst(9)) { attempts = min(5, value) }
                }
            }
        }
        if servers.isEmpty { servers = [NameServer(host: "127.0.0.1")] }
        return ResolverConfiguration(servers: servers, timeoutSeconds: timeout, attempts: attempts, defaultDomain: domain)
    }

    /// A default domain as written (`example.com`, `example.com.`), lower case without the
    /// final dot; nil for the root or a name that is not one.
    static func domainName(_ word: Substring) -> String? {
        var text = word.lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty, DNSName(text) != nil else { return nil }
        return text
    }

    /// `name` as Courier's resolver asks for it: with the default domain appended when it has no
    /// dot (and is not an IPv6 literal).
    public func qualified(_ name: String) -> String {
        guard let domain = defaultDomain, !name.isEmpty, !name.contains("."), !name.contains(":") else { return name }
        return name + "." + domain
    }

    /// A `DNS_SERVER` value; nil when empty or when a server in it is malformed.
    public static func parseServerList(_ text: String) -> [NameServer]? {
        let words = text.split(whereSeparator: { $0 == "," || $0 == " " })
        guard !words.isEmpty else { return nil }
        var servers: [NameServer] = []
        for word in words {
            guard let server = NameServer(parsing: String(word)) else { return nil }
            servers.append(server)
        }
        return servers
    }

    /// The system's configuration: `DNS_SERVER` if set, else /etc/resolv.conf's. Reads a small
    /// file: call it at start-up, not on an event loop.
    public static func system(environment: [String: String]) -> ResolverConfiguration {
        var configuration = parseResolvConf(readFile("/etc/resolv.conf") ?? "")
        if let value = environment[environmentVariable], let servers = parseServerList(value) {
            configuration.servers = servers
        }
        if let value = environment[localDomainVariable] {
            let first = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            configuration.defaultDomain = first.flatMap { domainName($0) }
        }
        return configuration
    }

    static func readFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
