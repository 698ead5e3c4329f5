// RFC 7208 §4.6, §12: the syntax of an SPF record ("v=spf1" followed by terms).

/// An SPF result (RFC 7208 §2.6).
public enum SPFResult: String, Sendable, Equatable, CaseIterable {
    case none, neutral, pass, fail, softfail, temperror, permerror

    /// Courier's keyword for this result in `BOFHSPF*` lists and replies (spec/mta.md §2.15):
    /// `temperror` is `error`, `permerror` is `unknown`.
    public var courierName: String {
        switch self {
        case .temperror: "error"
        case .permerror: "unknown"
        default: rawValue
        }
    }
}

/// `+`, `-`, `~`, `?` (RFC 7208 §4.6.2).
public enum SPFQualifier: Sendable, Equatable {
    case pass, fail, softfail, neutral

    var result: SPFResult {
        switch self {
        case .pass: .pass
        case .fail: .fail
        case .softfail: .softfail
        case .neutral: .neutral
        }
    }
}

/// A mechanism (RFC 7208 §5). Domain specs are unexpanded macro strings.
public enum SPFMechanism: Sendable, Equatable {
    case all
    case include(String)
    case a(String?, cidr4: Int, cidr6: Int)
    case mx(String?, cidr4: Int, cidr6: Int)
    case ptr(String?)
    case ip4([UInt8], prefix: Int)
    case ip6([UInt8], prefix: Int)
    case exists(String)

    /// Mechanisms that cost a DNS lookup toward the limit of 10 (RFC 7208 §4.6.4).
    var countsAsLookup: Bool {
        switch self {
        case .include, .a, .mx, .ptr, .exists: true
        case .all, .ip4, .ip6: false
        }
    }
}

/// One parsed record: its directives in order and the `redirect=` / `exp=` modifiers.
public struct SPFRecord: Sendable, Equatable {
    public var directives: [(qualifier: SPFQualifier, mechanism: SPFMechanism)]
    public var redirect: String?
    public var explanation: String?

    public static func == (lhs: SPFRecord, rhs: SPFRecord) -> Bool {
        lhs.redirect == rhs.redirect && lhs.explanation == rhs.explanation
            && lhs.directives.count == rhs.directives.count
            && zip(lhs.directives, rhs.directives).allSatisfy { $0.qualifier == $1.qualifier && $0.mechanism == $1.mechanism }
    }

    /// True when `text` is an SPF version 1 record (RFC 7208 §4.5: "v=spf1" then a space or the end).
    public static func isSPF(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower == "v=spf1" || lower.hasPrefix("v=spf1 ")
    }

    /// Parses a record; nil for a syntax error (a `permerror`, RFC 7208 §4.6).
    public static func parse(_ text: String) -> SPFRecord? {
        guard isSPF(text) else { return nil }
        var record = SPFRecord(directives: [], redirect: nil, explanation: nil)
        for term in text.dropFirst(6).split(separator: " ", omittingEmptySubsequences: true) {
            let term = String(term)
            // Modifier: name "=" macro-string (RFC 7208 §4.6.1); a name is ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
            if let equals = term.firstIndex(of: "="), isModifierName(term[..<equals]) {
                let name = term[..<equals].lowercased()
                let value = String(term[term.index(after: equals)...])
                guard SPFMacro.isValid(value) else { return nil }  // a domain-spec, also for exp=
                switch name {
                case "redirect":
                    guard record.redirect == nil, !value.isEmpty else { return nil }
                    record.redirect = value
                case "exp":
                    guard record.explanation == nil, !value.isEmpty else { return nil }
                    record.explanation = value
                default:
                    break  // RFC 7208 §6: unknown modifiers are ignored
                }
                continue
            }
            var body = Substring(term)
            var qualifier = SPFQualifier.pass
            switch body.first {
            case "+": qualifier = .pass; body = body.dropFirst()
            case "-": qualifier = .fail; body = body.dropFirst()
            case "~": qualifier = .softfail; body = body.dropFirst()
            case "?": qualifier = .neutral; body = body.dropFirst()
            default: break
            }
            guard let mechanism = parseMechanism(body) else { return nil }
            record.directives.append((qualifier, mechanism))
        }
        return record
    }

    static func isModifierName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    static func parseMechanism(_ body: Substring) -> SPFMechanism? {
        let nameEnd = body.firstIndex(where: { $0 == ":" || $0 == "/" }) ?? body.endIndex
        let name = body[..<nameEnd].lowercased()
        let rest = body[nameEnd...]
        switch name {
        case "all":
            return rest.isEmpty ? .all : nil
        case "include", "exists":
            guard rest.first == ":", let spec = domainSpec(rest.dropFirst()) else { return nil }
            return name == "include" ? .include(spec) : .exists(spec)
        case "a", "mx":
            // The dual-cidr-length comes off the end: a macro inside the domain may hold a `/`.
            guard let (domainPart, cidr4, cidr6) = splitDualCIDR(rest) else { return nil }
            let spec: String?
            if domainPart.isEmpty {
                spec = nil
            } else {
                guard domainPart.first == ":", let checked = domainSpec(domainPart.dropFirst()) else { return nil }
                spec = checked
            }
            return name == "a" ? .a(spec, cidr4: cidr4, cidr6: cidr6) : .mx(spec, cidr4: cidr4, cidr6: cidr6)
        case "ptr":
            if rest.isEmpty { return .ptr(nil) }
            guard rest.first == ":", let spec = domainSpec(rest.dropFirst()) else { return nil }
            return .ptr(spec)
        case "ip4":
            guard rest.first == ":" else { return nil }
            guard let (address, length) = splitPrefix(rest.dropFirst(), maximum: 32),
                  let bytes = IPAddressBytes.ipv4(String(address)) else { return nil }
            return .ip4(bytes, prefix: length)
        case "ip6":
            guard rest.first == ":" else { return nil }
            guard let (address, length) = splitPrefix(rest.dropFirst(), maximum: 128),
                  let bytes = IPAddressBytes.ipv6(String(address)) else { return nil }
            return .ip6(bytes, prefix: length)
        default:
            return nil
        }
    }

    /// `addr[/len]` → (addr, len), `len` = `maximum` when absent; nil when the length is malformed.
    static func splitPrefix(_ text: Substring, maximum: Int) -> (Substring, Int)? {
        guard let slash = text.lastIndex(of: "/") else { return (text, maximum) }
        let digits = text[text.index(after: slash)...]
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isNumber), let value = Int(digits),
              value <= maximum else { return nil }
        return (text[..<slash], value)
    }

    /// `[:domain][/n][//m]` (RFC 7208 §5.6) → the `:domain` part and the two lengths.
    static func splitDualCIDR(_ text: Substring) -> (Substring, Int, Int)? {
        var rest = text
        var cidr4 = 32, cidr6 = 128
        if let range = trailingLength(rest, marker: "//", maximum: 128) {
            cidr6 = range.value
            rest = rest[..<range.start]
        }
        if let range = trailingLength(rest, marker: "/", maximum: 32) {
            cidr4 = range.value
            rest = rest[..<range.start]
        }
        // Anything else ending in `/digits` or `/` is malformed.
        if rest.hasSuffix("/") { return nil }
        return (rest, cidr4, cidr6)
    }

    /// A trailing `MARKER digits` (digits without a leading zero unless `0`), within `maximum`.
    static func trailingLength(_ text: Substring, marker: String, maximum: Int) -> (start: Substring.Index, value: Int)? {
        let digits = text.reversed().prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= 3 else { return nil }
        let digitsStart = text.index(text.endIndex, offsetBy: -digits.count)
        let head = text[..<digitsStart]
        guard head.hasSuffix(marker) else { return nil }
        if marker == "/" && head.hasSuffix("//") { return nil }
        let number = text[digitsStart...]
        guard let value = Int(number), value <= maximum, number.count == 1 || number.first != "0" else { return nil }
        return (text.index(digitsStart, offsetBy: -marker.count), value)
    }

    static func domainSpec(_ text: Substring) -> String? {
        guard !text.isEmpty, SPFMacro.isValid(String(text)) else { return nil }
        return String(text)
    }
}

/// Text addresses to bytes (inet_pton without Glibc, so the parser stays pure).
enum IPAddressBytes {
    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            // RFC 7208 §12 dec-octet: no leading zeros.
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        var tail: [UInt8] = []
        // An embedded IPv4 tail (`::ffff:192.0.2.1`).
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = ipv4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = v4
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        let halves = text.splitAtDoubleColons()
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, group.allSatisfy(\.isHexDigit),
                      let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        let rest = halves.count == 2 ? groups(halves[1]) : []
        guard let rest else { return nil }
        let wanted = 8 - tail.count / 2
        var all: [UInt16]
        if halves.count == 2 {
            guard head.count + rest.count < wanted else { return nil }
            all = head + Array(repeating: 0, count: wanted - head.count - rest.count) + rest
        } else {
            guard head.count == wanted else { return nil }
            all = head
        }
        var bytes: [UInt8] = []
        for group in all { bytes += [UInt8(group >> 8), UInt8(group & 0xFF)] }
        return bytes + tail
    }
}

extension Substring {
    /// `a::b` → ["a", "b"]; more than one `::` gives more than two parts (an error to callers).
    fileprivate func splitAtDoubleColons() -> [String] {
        var parts: [String] = []
        var current = ""
        var index = startIndex
        while index < endIndex {
            let next = self.index(after: index)
            if self[index] == ":", next < endIndex, self[next] == ":" {
                parts.append(current)
                current = ""
                index = self.index(after: next)
                continue
            }
            current.append(self[index])
            index = next
        }
        parts.append(current)
        return parts
    }
}
