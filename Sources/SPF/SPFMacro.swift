// RFC 7208 §7: macro strings in domain specs and explanations.

/// What macros expand to during one check_host() evaluation.
public struct SPFMacroContext: Sendable {
    /// `%{s}`: the sender (`local@domain`, or `postmaster@helo` for the HELO identity).
    public var sender: String
    /// `%{d}`: the domain being evaluated (changes in include/redirect).
    public var domain: String
    /// `%{i}`: the client's address as text.
    public var ip: String
    /// `%{h}`: the HELO/EHLO name.
    public var helo: String
    /// `%{r}`: our host name (explanations only).
    public var receiver: String
    /// `%{p}`: the client's validated reverse name, if known.
    public var validatedName: String?
    /// `%{t}`: seconds since the epoch (explanations only).
    public var timestamp: Int

    public init(sender: String, domain: String, ip: String, helo: String, receiver: String,
                validatedName: String? = nil, timestamp: Int = 0) {
        self.sender = sender
        self.domain = domain
        self.ip = ip
        self.helo = helo
        self.receiver = receiver
        self.validatedName = validatedName
        self.timestamp = timestamp
    }

    var localPart: String {
        guard let at = sender.lastIndex(of: "@") else { return "postmaster" }
        let local = sender[..<at]
        return local.isEmpty ? "postmaster" : String(local)
    }

    var senderDomain: String {
        guard let at = sender.lastIndex(of: "@") else { return sender }
        return String(sender[sender.index(after: at)...])
    }

    var isIPv6: Bool { ip.contains(":") && IPAddressBytes.ipv4(ip) == nil }

    /// `%{i}`: dotted quad, or 32 dot-separated nibbles for IPv6 (RFC 7208 §7.3).
    var ipForMacro: String {
        guard isIPv6, let bytes = IPAddressBytes.ipv6(ip) else { return ip }
        let digits = Array("0123456789abcdef")
        return bytes.flatMap { [String(digits[Int($0 >> 4)]), String(digits[Int($0 & 0xF)])] }.joined(separator: ".")
    }
}

/// Macro-string validation and expansion (RFC 7208 §7.1).
public enum SPFMacro {
    static let delimiters: Set<Character> = [".", "-", "+", ",", "/", "_", "="]
    static let letters: Set<Character> = ["s", "l", "o", "d", "i", "p", "h", "c", "r", "t", "v"]

    /// Whether `text` is a well-formed macro string (`explanation` allows `c`, `r`, `t` and spaces).
    public static func isValid(_ text: String, explanation: Bool = false) -> Bool {
        (try? expand(text, context: SPFMacroContext(sender: "a@b", domain: "b", ip: "127.0.0.1", helo: "b", receiver: "b"),
                     explanation: explanation)) != nil
    }

    /// A malformed macro string.
    public enum Failure: Error { case syntax }

    /// Expands `text`; `explanation` allows the `c`, `r`, `t` letters (RFC 7208 §7.2).
    public static func expand(_ text: String, context: SPFMacroContext, explanation: Bool) throws(Failure) -> String {
        var output = ""
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            guard character == "%" else {
                // macro-literal: visible ASCII (a space is allowed in explanations).
                guard let ascii = character.asciiValue, (0x21...0x7E).contains(ascii) || (explanation && ascii == 0x20) else {
                    throw .syntax
                }
                output.append(character)
                continue
            }
            switch characters.popFirst() {
            case "%": output.append("%")
            case "_": output.append(" ")
            case "-": output.append("%20")
            case "{":
                guard let close = characters.firstIndex(of: "}") else { throw .syntax }
                let body = characters[..<close]
                characters = characters[characters.index(after: close)...]
                output += try expandOne(body, context: context, explanation: explanation)
            default:
                throw .syntax
            }
        }
        return output
    }

    static func expandOne(_ body: ArraySlice<Character>, context: SPFMacroContext, explanation: Bool) throws(Failure) -> String {
        // Only ASCII letters are macro letters (a hostile record may hold anything here).
        guard let letter = body.first, let ascii = letter.asciiValue else { throw .syntax }
        let lower = Character(UnicodeScalar(ascii | 0x20))
        guard letters.contains(lower), (0x41...0x5A).contains(ascii) || (0x61...0x7A).contains(ascii) else { throw .syntax }
        if !explanation && ["c", "r", "t"].contains(lower) { throw .syntax }
        var rest = body.dropFirst()
        let digits = rest.prefix(while: \.isNumber)
        rest = rest.dropFirst(digits.count)
        var keep: Int?
        if !digits.isEmpty {
            guard digits.count <= 3, let value = Int(String(digits)), value > 0 else { throw .syntax }
            keep = value
        }
        var reverse = false
        if rest.first == "r" || rest.first == "R" {
            reverse = true
            rest = rest.dropFirst()
        }
        guard rest.allSatisfy({ delimiters.contains($0) }) else { throw .syntax }
        let splitOn: Set<Character> = rest.isEmpty ? ["."] : Set(rest)

        let value: String
        switch lower {
        case "s": value = context.sender
        case "l": value = context.localPart
        case "o": value = context.senderDomain
        case "d": value = context.domain
        case "i": value = context.ipForMacro
        case "p": value = context.validatedName ?? "unknown"
        case "v": value = context.isIPv6 ? "ip6" : "in-addr"
        case "h": value = context.helo
        case "c": value = context.ip
        case "r": value = context.receiver
        default: value = String(context.timestamp)
        }
        var parts = value.split(omittingEmptySubsequences: false, whereSeparator: { splitOn.contains($0) }).map(String.init)
        if reverse { parts.reverse() }
        if let keep, keep < parts.count { parts = Array(parts.suffix(keep)) }
        let joined = parts.joined(separator: ".")
        return (0x41...0x5A).contains(ascii) ? urlEscape(joined) : joined
    }

    /// RFC 3986 unreserved characters stay; everything else becomes %XX.
    static func urlEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if byte < 0x80 && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
