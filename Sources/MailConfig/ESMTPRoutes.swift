/// One line of `esmtproutes` (spec/mta.md §3.9): `domain: relay[,port] [/FLAG,FLAG…]`.
public struct ESMTPRoute: Sendable, Equatable {
    /// What the line matches.
    public enum Match: Sendable, Equatable {
        /// `example.com`: that domain only.
        case exact(String)
        /// `.example.com`: any subdomain of example.com.
        case subdomains(String)
        /// An empty domain: everything (a smarthost).
        case all
    }

    /// Where matching mail goes.
    public enum Relay: Sendable, Equatable {
        /// Empty relay: resolve the recipient's domain as usual (MX, then A/AAAA).
        case dns
        /// A host name, itself MX- then A/AAAA-resolved.
        case host(String)
        /// `[a.b.c.d]` / `[ipv6]`: that address, no DNS.
        case address(String)
    }

    /// `/SECURITY=` (spec §3.9): STARTTLS and REQUIRED both mean TLS is mandatory here
    /// (Courier's own XSECURITY extension is not implemented); SMTPS is TLS on connect.
    public enum Security: String, Sendable, Equatable {
        case none = "NONE", startTLS = "STARTTLS", required = "REQUIRED", smtps = "SMTPS"
    }

    public var match: Match
    public var relay: Relay
    /// `,port`; nil = 25.
    public var port: Int?
    public var security: Security?
    public var ipv4Only = false
    public var ipv6Only = false

    public init(match: Match, relay: Relay, port: Int? = nil, security: Security? = nil,
                ipv4Only: Bool = false, ipv6Only: Bool = false) {
        self.match = match
        self.relay = relay
        self.port = port
        self.security = security
        self.ipv4Only = ipv4Only
        self.ipv6Only = ipv6Only
    }

    /// Whether this line applies to a (lower-cased) recipient domain.
    public func matches(_ domain: String) -> Bool {
        switch match {
        case let .exact(name): domain == name
        case let .subdomains(suffix): domain.hasSuffix("." + suffix)
        case .all: true
        }
    }
}

/// Parser and lookup for `esmtproutes`.
public enum ESMTPRoutes {
    /// Parses the file's entries (comments already removed); bad lines are reported and skipped.
    public static func parse(_ entries: [ListEntry]) -> (routes: [ESMTPRoute], errors: [ConfigError]) {
        var routes: [ESMTPRoute] = []
        var errors: [ConfigError] = []
        for entry in entries {
            if let route = parseLine(entry.text) {
                routes.append(route)
            } else {
                errors.append(entry.error("esmtproutes: cannot parse \"\(entry.text)\""))
            }
        }
        return (routes, errors)
    }

    /// The first line that matches `domain` (case-insensitive), nil = plain DNS delivery.
    public static func lookup(_ domain: String, in routes: [ESMTPRoute]) -> ESMTPRoute? {
        let lower = domain.lowercased()
        return routes.first { $0.matches(lower) }
    }

    /// One line; nil when it has no `:` or a bad port.
    public static func parseLine(_ text: String) -> ESMTPRoute? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let domain = text[..<colon].trimmingBlanks().lowercased()
        var rest = Substring(text[text.index(after: colon)...])
        // [code] only the text after the last `/` holds flags.
        var flagText: Substring = ""
        if let slash = rest.lastIndex(of: "/") {
            flagText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if let first = rest.firstIndex(of: "/") { rest = rest[..<first] }
        }
        let match: ESMTPRoute.Match = domain.isEmpty ? .all
            : domain.hasPrefix(".") ? .subdomains(String(domain.dropFirst())) : .exact(domain)
        var relayText = rest.trimmingBlanks()
        var port: Int?
        if let comma = relayText.lastIndex(of: ",") {
            let portText = relayText[relayText.index(after: comma)...].trimmingBlanks()
            guard let value = Int(portText), value > 0, value < 65536 else { return nil }
            port = value
            relayText = relayText[..<comma].trimmingBlanks()
        }
        let relay: ESMTPRoute.Relay
        if relayText.isEmpty {
            relay = .dns
        } else if relayText.hasPrefix("["), relayText.hasSuffix("]"), relayText.count > 2 {
            relay = .address(String(relayText.dropFirst().dropLast()))
        } else {
            guard !relayText.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
            relay = .host(relayText.lowercased())
        }
        var route = ESMTPRoute(match: match, relay: relay, port: port)
        for flag in flagText.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            let upper = flag.uppercased()
            if upper == "IPV4ONLY" { route.ipv4Only = true }
            else if upper == "IPV6ONLY" { route.ipv6Only = true }
            else if upper.hasPrefix("SECURITY="), let security = ESMTPRoute.Security(rawValue: String(upper.dropFirst(9))) {
                route.security = security
            }
        }
        return route
    }
}

/// One line of `esmtpauthclient` (spec §3.10): `relay[,port] userid password`.
public struct ESMTPAuthClientEntry: Sendable, Equatable {
    /// Lower-cased relay name, with `,port` when the line has one.
    public var relay: String
    public var user: String
    public var password: String

    public init(relay: String, user: String, password: String) {
        self.relay = relay
        self.user = user
        self.password = password
    }

    /// Parses the file's entries; lines without three fields are skipped.
    public static func parse(_ entries: [ListEntry]) -> [ESMTPAuthClientEntry] {
        entries.compactMap { entry in
            let fields = entry.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3 else { return nil }
            return ESMTPAuthClientEntry(relay: fields[0].lowercased(), user: String(fields[1]),
                                        password: fields[2...].joined(separator: " "))
        }
    }

    /// The credentials for a relay reached as `host` on `port` (`host,port` unless 25).
    public static func lookup(host: String, port: Int, in entries: [ESMTPAuthClientEntry]) -> ESMTPAuthClientEntry? {
        let key = port == 25 ? host.lowercased() : "\(host.lowercased()),\(port)"
        return entries.first { $0.relay == key }
    }
}

extension StringProtocol {
    func trimmingBlanks() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
