/// One `badfrom` pattern of the `bofh` file (spec/mta.md §2.14).
public struct BadFromPattern: Sendable, Equatable {
    /// The local part, or nil for "any user" (`@domain`).
    public var user: String?
    /// The domain, lowercased.
    public var domain: String
    /// `@.domain`: any subdomain of `domain` (not the domain itself).
    public var subdomains: Bool

    public init(user: String?, domain: String, subdomains: Bool) {
        self.user = user
        self.domain = domain
        self.subdomains = subdomains
    }

    /// Whether the envelope sender `user@domain` matches. Domains compare case-insensitively,
    /// local parts as written (RFC 5321 §2.4).
    public func matches(user senderUser: String, domain senderDomain: String) -> Bool {
        if let user, user != senderUser { return false }
        let domain = senderDomain.lowercased()
        if subdomains { return domain.hasSuffix("." + self.domain) }
        return domain == self.domain
    }
}

/// The site's `bofh` control file: sender and recipient policy for SMTP (spec/mta.md §2.14).
public struct BofhSettings: Sendable, Equatable {
    public var badFrom: [BadFromPattern] = []
    /// `badmx`: mail servers (IP addresses) whose domains' senders are refused.
    public var badMX: Set<String> = []
    /// `freemail`: each entry is the domain list of one line; the first is the sender domain,
    /// the rest (with the first) are where its mail may come from.
    public var freemail: [[String]] = []
    /// `spamtrap`: recipients (lowercased) that make the whole message refused.
    public var spamTraps: Set<String> = []
    /// `maxrcpts N`: recipients per message (default 100).
    public var maxRecipients = 100
    /// `maxrcpts N hard`: excess recipients get 531 instead of 431.
    public var maxRecipientsHard = false
    /// `opt NAME=value`: variables used when the environment (esmtpd, smtpaccess) has none.
    public var options: [String: String] = [:]

    public init() {}

    /// The first `badfrom` pattern that refuses `user@domain`, if any.
    public func refusesSender(user: String, domain: String) -> Bool {
        badFrom.contains { $0.matches(user: user, domain: domain) }
    }

    /// The `freemail` line for a sender domain, if one applies.
    public func freemailRelays(for domain: String) -> [String]? {
        let domain = domain.lowercased()
        return freemail.first { $0.first == domain }
    }

    /// Whether `address` (`user@domain`) is a spam trap.
    public var hasSpamTraps: Bool { !spamTraps.isEmpty }

    public func isSpamTrap(_ address: String) -> Bool {
        !spamTraps.isEmpty && spamTraps.contains(address.lowercased())
    }
}

/// Parser for `bofh` (spec/mta.md §2.14): `#` comments anywhere, blank-separated tokens,
/// case-insensitive directive names. Unknown directives and malformed lines are errors with
/// their line, so a typo does not silently disable a rule.
public enum BofhParser {
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> BofhSettings {
        var settings = BofhSettings()
        for entry in try ListFileParser.parse(bytes, file: file, comments: .anywhere) {
            let words = entry.text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let directive = words.first?.lowercased() else { continue }
            let arguments = Array(words.dropFirst())
            switch directive {
            case "badfrom":
                guard arguments.count == 1, let pattern = badFrom(arguments[0]) else {
                    throw entry.error("badfrom needs one address such as user@domain, @domain or @.domain")
                }
                settings.badFrom.append(pattern)
            case "badmx":
                guard !arguments.isEmpty else { throw entry.error("badmx needs an IP address") }
                for address in arguments { settings.badMX.insert(address.lowercased()) }
            case "freemail":
                guard !arguments.isEmpty else { throw entry.error("freemail needs at least one domain") }
                settings.freemail.append(arguments.map { $0.lowercased() })
            case "spamtrap":
                guard arguments.count == 1, arguments[0].contains("@") else {
                    throw entry.error("spamtrap needs one address such as user@domain")
                }
                settings.spamTraps.insert(arguments[0].lowercased())
            case "maxrcpts":
                guard (1...2).contains(arguments.count), let count = Int(arguments[0]), count > 0,
                      arguments.count == 1 || arguments[1].lowercased() == "hard" else {
                    throw entry.error("maxrcpts needs a positive number, optionally followed by 'hard'")
                }
                settings.maxRecipients = count
                settings.maxRecipientsHard = arguments.count == 2
            case "opt":
                guard arguments.count == 1, let equals = arguments[0].firstIndex(of: "="),
                      equals != arguments[0].startIndex else {
                    throw entry.error("opt needs NAME=value")
                }
                let name = String(arguments[0][..<equals])
                // Like an environment variable set only when unset: the first line wins.
                if settings.options[name] == nil {
                    settings.options[name] = String(arguments[0][arguments[0].index(after: equals)...])
                }
            default:
                throw entry.error("unknown bofh directive '\(words[0])'")
            }
        }
        return settings
    }

    /// Parses a string (tests).
    public static func parse(_ text: String, file: String) throws(ConfigError) -> BofhSettings {
        try parse(Array(text.utf8), file: file)
    }

    /// `user@domain`, `@domain`, `@.domain`, `user@.domain`.
    static func badFrom(_ text: String) -> BadFromPattern? {
        guard let at = text.lastIndex(of: "@") else { return nil }
        let user = String(text[..<at])
        var domain = text[text.index(after: at)...].lowercased()
        let subdomains = domain.hasPrefix(".")
        if subdomains { domain.removeFirst() }
        guard !domain.isEmpty else { return nil }
        return BadFromPattern(user: user.isEmpty ? nil : user, domain: domain, subdomains: subdomains)
    }
}
