import ArgumentParser
import DNS
import MailConfig

/// `courier dnsquery TYPE NAME`: one lookup through the resolver the mail server uses (same
/// servers: `DNS_SERVER`, else /etc/resolv.conf), CNAMEs followed. Exit 0 with records,
/// 1 for "no such domain" or "no records" (permanent), 75 for a temporary failure.
struct DNSQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnsquery",
        abstract: "Look up A, AAAA, MX, TXT, PTR or CNAME records with the server's resolver.",
        discussion: "Name servers: $DNS_SERVER (host:port, comma-separated), else /etc/resolv.conf. For PTR, NAME may be an IP address.")

    @Option(name: .customLong("udp-size"), help: ArgumentHelp("EDNS0 UDP payload size to advertise; 0 = no EDNS0 (512-byte UDP replies, larger ones come by TCP).", valueName: "N"))
    var udpSize: Int = 1232

    @Argument(help: "A, AAAA, MX, TXT, PTR or CNAME.")
    var type: String

    @Argument(help: "The domain name (or, for PTR, an IP address).")
    var name: String

    func run() async throws {
        let types: [String: DNSRecordType] = ["A": .a, "AAAA": .aaaa, "MX": .mx, "TXT": .txt, "PTR": .ptr, "CNAME": .cname]
        guard let recordType = types[type.uppercased()] else {
            throw ValidationError("unknown record type '\(type)'")
        }
        let reverse = recordType == .ptr ? DNSName(reverseOf: name) : nil
        guard let query = reverse ?? DNSName(name) else { throw ValidationError("'\(name)' is not a domain name") }
        var configuration = ResolverConfiguration.system(environment: ConfigRoot.processEnvironment())
        configuration.udpPayloadSize = udpSize <= 0 ? nil : UInt16(clamping: max(512, udpSize))
        let resolver = DNSResolver(configuration: configuration)
        let result: DNSLookupResult
        do {
            result = try await resolver.lookup(query, recordType)
        } catch {
            print("\(query): \(error.isTemporary ? "temporary failure" : "bad DNS records") (\(error.description)).")
            throw ExitCode(error.isTemporary ? 75 : 1)
        }
        switch result {
        case .noSuchDomain:
            print("\(query): no such domain.")
            throw ExitCode(1)
        case .noData:
            print("\(query): no \(recordType) records.")
            throw ExitCode(1)
        case .records(let records):
            for record in records { print("\(record.name) \(record.ttl) \(record.type) \(Self.text(of: record.data))") }
        }
    }

    /// Zone-file style data: TXT strings quoted (quotes and backslashes escaped).
    static func text(of data: DNSRecordData) -> String {
        switch data {
        case .a(let bytes): DNSAddressText.ipv4(bytes)
        case .aaaa(let bytes): DNSAddressText.ipv6(bytes)
        case .cname(let target), .ptr(let target): "\(target)."
        case .mx(let preference, let exchange): "\(preference) \(exchange)."
        case .txt(let strings):
            strings.map { string in
                var out: [UInt8] = [UInt8(ascii: "\"")]
                for byte in string {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
                out.append(UInt8(ascii: "\""))
                return String(decoding: out, as: UTF8.self)
            }.joined(separator: " ")
        case .other(let bytes): "\\# \(bytes.count)"
        }
    }
}
