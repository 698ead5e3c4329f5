/// One rule of an access file (`smtpaccess/`, `imapaccess`): a netblock and what happens to
/// connections from it (spec/mta.md §2.16).
public struct AccessRule: Equatable, Sendable {
    /// `allow` (with variables to set for the connection) or `deny`.
    public enum Action: Equatable, Sendable {
        case allow([AccessVariable])
        case deny
    }

    /// As written: `*`, an IPv4 prefix on octet boundaries (`192.168`), a CIDR block
    /// (`10.0.0.0/8`), or `:`-prefixed IPv6 groups.
    public var netblock: String
    public var action: Action
    public var file: String
    public var line: Int

    public init(netblock: String, action: Action, file: String, line: Int) {
        self.netblock = netblock
        self.action = action
        self.file = file
        self.line = line
    }

    /// True when this rule lets the client relay (`allow,RELAYCLIENT`).
    public var allowsRelaying: Bool {
        if case .allow(let variables) = action {
            return variables.contains { $0.name == "RELAYCLIENT" }
        }
        return false
    }
}

/// `VAR` or `VAR=value` after `allow,`.
public struct AccessVariable: Equatable, Sendable {
    public var name: String
    /// Empty for a bare `VAR`.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Parser for access files: `<netblock><TAB>allow[,VAR[=value]]…` or `<netblock><TAB>deny`;
/// blank lines and `#` lines are ignored. Courier wants exactly one TAB; we accept any run of
/// blanks there.
public enum AccessFileParser {
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> [AccessRule] {
        let lines = try ListFileParser.parse(bytes, file: file, comments: .wholeLine)
        var rules: [AccessRule] = []
        for entry in lines {
            rules.append(try parseRule(entry))
        }
        return rules
    }

    static func parseRule(_ entry: ListEntry) throws(ConfigError) -> AccessRule {
        let bytes = Array(entry.text.utf8)
        guard let gap = bytes.firstIndex(where: \.isBlank) else {
            throw entry.error("expected '<netblock><TAB>allow' or '<netblock><TAB>deny'")
        }
        let netblock = String(decoding: bytes[..<gap], as: UTF8.self)
        guard isValidNetblock(netblock) else {
            throw entry.error("bad netblock '\(netblock)': use *, an IPv4 prefix (192.168), a CIDR block (10.0.0.0/8) or :-prefixed IPv6 groups")
        }
        let ruleText = trimmed(bytes[gap...])
        let items = splitOutsideQuotes(Array(ruleText))
        guard let keyword = items.first?.lowercased() else {
            throw entry.error("missing allow or deny after the netblock")
        }
        switch keyword {
        case "deny":
            guard items.count == 1 else { throw entry.error("deny takes no variables") }
            return AccessRule(netblock: netblock, action: .deny, file: entry.file, line: entry.line)
        case "allow":
            var variables: [AccessVariable] = []
            for item in items.dropFirst() {
                variables.append(try parseVariable(item, entry: entry))
            }
            return AccessRule(netblock: netblock, action: .allow(variables), file: entry.file, line: entry.line)
        default:
            throw entry.error("expected allow or deny, found '\(items[0])'")
        }
    }

    static func parseVariable(_ item: String, entry: ListEntry) throws(ConfigError) -> AccessVariable {
        let bytes = Array(item.utf8)
        let nameEnd = bytes.firstIndex(of: .equals) ?? bytes.endIndex
        let name = bytes[..<nameEnd]
        guard let first = name.first, first.isNameStart, name.allSatisfy(\.isNameByte) else {
            throw entry.error("bad variable '\(item)' (expected VAR or VAR=value)")
        }
        var value = nameEnd < bytes.endIndex ? bytes[(nameEnd + 1)...] : []
        if value.count >= 2, value.first == .doubleQuote, value.last == .doubleQuote {
            value = value.dropFirst().dropLast()
        } else if value.contains(.doubleQuote) {
            throw entry.error("unbalanced double quote in '\(item)'")
        }
        return AccessVariable(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    /// Splits at commas outside double quotes.
    static func splitOutsideQuotes(_ bytes: [UInt8]) -> [String] {
        var items: [String] = []
        var piece: [UInt8] = []
        var quoted = false
        for byte in bytes {
            if byte == .doubleQuote { quoted.toggle() }
            if byte == .comma, !quoted {
                items.append(String(decoding: trimmed(piece[...]), as: UTF8.self))
                piece.removeAll(keepingCapacity: true)
            } else {
                piece.append(byte)
            }
        }
        items.append(String(decoding: trimmed(piece[...]), as: UTF8.self))
        return items
    }

    /// `*`; IPv4 prefix of 1–4 octets, optionally `/bits`; `:` then 1–8 groups of hex digits.
    public static func isValidNetblock(_ text: String) -> Bool {
        if text == "*" { return true }
        let bytes = Array(text.utf8)
        if bytes.first == .colon {
            let groups = bytes.dropFirst().split(separator: .colon, omittingEmptySubsequences: false)
            return (1...8).contains(groups.count) && groups.allSatisfy { group in
                (1...4).contains(group.count) && group.allSatisfy(\.isHexDigit)
            }
        }
        var address = bytes[...]
        if let slash = bytes.firstIndex(of: .slash) {
            let bits = bytes[(slash + 1)...]
            guard !bits.isEmpty, bits.count <= 2, bits.allSatisfy(\.isDigit),
                  let value = Int(String(decoding: bits, as: UTF8.self)), value <= 32 else { return false }
            address = bytes[..<slash]
        }
        let octets = address.split(separator: .dot, omittingEmptySubsequences: false)
        return (1...4).contains(octets.count) && octets.allSatisfy { octet in
            (1...3).contains(octet.count) && octet.allSatisfy(\.isDigit)
                && (Int(String(decoding: octet, as: UTF8.self)) ?? 256) <= 255
        }
    }
}

extension UInt8 {
    var isHexDigit: Bool {
        isDigit || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66)
    }
}
