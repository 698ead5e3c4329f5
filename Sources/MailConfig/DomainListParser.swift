/// One line of `locals`, `esmtpacceptmailfor` or `hosteddomains` (spec/mta.md §3.4–§3.6).
public struct DomainPattern: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// `example.com`: this domain.
        case exact
        /// `.example.com`: every subdomain (not the domain itself).
        case subdomains
        /// `!host.example.com`: not local, even if a later line says so.
        case excluded
        /// `*`: the system's host name.
        case hostname
    }

    public var kind: Kind
    /// The domain in lower case, without the `.`/`!` mark; empty for `*`. A leading `*.` is
    /// kept: it is replaced by the host name when the list is used.
    public var domain: String
    /// `alias<TAB>domain` in `hosteddomains`: mail for the alias goes to `domain`.
    public var target: String?
    public var file: String
    public var line: Int

    public init(kind: Kind, domain: String, target: String? = nil, file: String, line: Int) {
        self.kind = kind
        self.domain = domain
        self.target = target
        self.file = file
        self.line = line
    }
}

/// Parser for domain lists. `hosted` allows the `alias<TAB>domain` form of `hosteddomains`.
public enum DomainListParser {
    public static func parse(_ bytes: [UInt8], file: String, hosted: Bool = false) throws(ConfigError) -> [DomainPattern] {
        var patterns: [DomainPattern] = []
        for entry in try ListFileParser.parse(bytes, file: file) {
            patterns.append(try parseEntry(entry, hosted: hosted))
        }
        return patterns
    }

    static func parseEntry(_ entry: ListEntry, hosted: Bool) throws(ConfigError) -> DomainPattern {
        let words = entry.text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { throw entry.error("empty entry") }
        var target: String?
        if words.count == 2, hosted {
            target = words[1].lowercased()
            guard isDomainName(target ?? "") else { throw entry.error("bad target domain '\(words[1])'") }
        } else if words.count > 1 {
            throw entry.error(hosted ? "expected 'domain' or 'alias<TAB>domain'" : "expected one domain per line")
        }
        let lower = first.lowercased()
        let kind: DomainPattern.Kind
        var domain = lower[...]
        if lower == "*" {
            kind = .hostname
            domain = ""
        } else if lower.hasPrefix("!") {
            kind = .excluded
            domain = domain.dropFirst()
        } else if lower.hasPrefix(".") {
            kind = .subdomains
            domain = domain.dropFirst()
        } else {
            kind = .exact
        }
        if kind != .hostname {
            let name = domain.hasPrefix("*.") ? domain.dropFirst(2) : domain
            guard isDomainName(String(name)) else { throw entry.error("bad domain '\(first)'") }
        }
        return DomainPattern(kind: kind, domain: String(domain), target: target, file: entry.file, line: entry.line)
    }

    /// Letters, digits, `-`, `_` and UTF-8 in dot-separated labels of 1–63 bytes.
    public static func isDomainName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: .dot, omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.allSatisfy { byte in
                byte.isLetter || byte.isDigit || byte == .minus || byte == .underscore || byte >= 0x80
            }
        }
    }
}
