#if canImport(Glibc)
import Glibc
#endif

/// Where a listener binds: an address (or every address) and a TCP port.
public struct ListenEndpoint: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address; nil means every address (Courier's `0` or unset).
    public var address: String?
    public var port: Int

    public init(address: String?, port: Int) {
        self.address = address
        self.port = port
    }

    /// `127.0.0.1:2525`, `[::1]:2525`, `*:25`.
    public var description: String {
        guard let address else { return "*:\(port)" }
        return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// True when only this machine can connect (127.0.0.0/8 or ::1).
    public var isLoopback: Bool {
        guard let address else { return false }
        return address == "::1" || address.hasPrefix("127.")
    }

    /// True when two endpoints would compete for the same socket.
    public func overlaps(_ other: ListenEndpoint) -> Bool {
        port == other.port && (address == nil || other.address == nil || address == other.address)
    }
}

/// Reading `PORT`/`ADDRESS` (and `SSLPORT`/`SSLADDRESS`) as Courier's couriertcpd does:
/// `PORT` is a comma list whose items are `port` or `address.port` (`127.0.0.1.900`); an item
/// without its own address uses `ADDRESS`; `ADDRESS` unset, empty or `0` means every address.
public enum ListenSpec {
    /// Well-known service names allowed in place of a number (`PORT=smtp`).
    public static let serviceNames: [String: Int] = [
        "smtp": 25, "submission": 587, "smtps": 465, "submissions": 465,
        "imap": 143, "imap2": 143, "imaps": 993, "pop3": 110, "pop3s": 995,
        "http": 80, "https": 443,
    ]

    /// The endpoints of a service; errors point at the `PORT`/`ADDRESS` line.
    public static func endpoints(for kind: ServiceKind, in variables: ConfigVariables, defaultPort: Int) throws(ConfigError) -> [ListenEndpoint] {
        let portName = kind.portVariable
        let addressName = kind.addressVariable
        let sharedAddress = try address(variables[addressName] ?? "", name: addressName, variables: variables)
        let portText = variables[portName] ?? String(defaultPort)
        var endpoints: [ListenEndpoint] = []
        for rawItem in portText.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingBlanksSubstring
            guard !item.isEmpty else {
                throw variables.error(portName, "\(portName)=\(portText): empty item in the port list")
            }
            if let dot = item.lastIndex(of: ".") {
                let addressPart = String(item[..<dot])
                let port = try parsePort(String(item[item.index(after: dot)...]), name: portName, variables: variables)
                let own = try address(addressPart, name: portName, variables: variables)
                endpoints.append(ListenEndpoint(address: own, port: port))
            } else {
                endpoints.append(ListenEndpoint(address: sharedAddress, port: try parsePort(item, name: portName, variables: variables)))
            }
        }
        return endpoints
    }

    static func parsePort(_ text: String, name: String, variables: ConfigVariables) throws(ConfigError) -> Int {
        if let named = serviceNames[text.lowercased()] { return named }
        guard !text.isEmpty, text.utf8.allSatisfy(\.isDigit), text.utf8.count <= 5,
              let port = Int(text), (1...65_535).contains(port) else {
            throw variables.error(name, "\(name): '\(text)' is not a port (1-65535 or a name such as smtp)")
        }
        return port
    }

    /// nil for "every address"; otherwise a validated numeric address.
    static func address(_ raw: String, name: String, variables: ConfigVariables) throws(ConfigError) -> String? {
        let text = raw.trimmingBlanks
        if text.isEmpty || text == "0" { return nil }
        var bare = text
        if bare.hasPrefix("["), bare.hasSuffix("]") { bare = String(bare.dropFirst().dropLast()) }
        guard isNumericAddress(bare) else {
            throw variables.error(name, "\(name): '\(text)' is not an IP address (use 0 for every address)")
        }
        return bare
    }

    /// True for a numeric IPv4 or IPv6 address (inet_pton).
    public static func isNumericAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return buffer.withUnsafeMutableBytes { raw in
            inet_pton(AF_INET, text, raw.baseAddress) == 1 || inet_pton(AF_INET6, text, raw.baseAddress) == 1
        }
    }
}

extension Substring {
    var trimmingBlanksSubstring: String { String(self).trimmingBlanks }
}
