/// A mailbox of an SMTP path: `local@domain` (RFC 5321 §4.1.2 `Mailbox`), with the source route
/// it came with, if any. Bytes are kept as received; `localPart` is unquoted.
public struct SMTPMailbox: Sendable, Equatable, CustomStringConvertible {
    /// The local part with quoting removed (`"a b"` → `a b`).
    public var localPart: String
    /// True when the client sent the local part as a quoted string.
    public var wasQuoted: Bool
    /// Domain name or address literal (`[192.0.2.1]`), as sent.
    public var domain: String
    /// `@a,@b:` source route (RFC 5321 §4.1.2 A-d-l), domains without `@`.
    public var sourceRoute: [String]

    public init(localPart: String, wasQuoted: Bool = false, domain: String, sourceRoute: [String] = []) {
        self.localPart = localPart
        self.wasQuoted = wasQuoted
        self.domain = domain
        self.sourceRoute = sourceRoute
    }

    /// `local@domain` (source route dropped; a local part that needs quoting is quoted).
    public var address: String {
        var needsQuotes = localPart.isEmpty
        var previousDot = true
        for byte in localPart.utf8 {
            if byte == UInt8(ascii: ".") {
                if previousDot { needsQuotes = true }
                previousDot = true
            } else {
                previousDot = false
                if byte < 0x80 && !SMTPByteClass.isAtext(byte) { needsQuotes = true }
            }
        }
        if previousDot { needsQuotes = true }
        guard needsQuotes else { return localPart + "@" + domain }
        var quoted = "\""
        for character in localPart {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\"@" + domain
    }

    public var description: String { address }

    /// True when any part is outside ASCII (RFC 6531).
    public var isASCII: Bool {
        localPart.utf8.allSatisfy { $0 < 0x80 } && domain.utf8.allSatisfy { $0 < 0x80 }
    }

    /// A UUCP bang path: an unquoted local part with `!` (`host!user@domain`). A quoted `!` is
    /// an ordinary character of the local part, as in Courier's tokenizer.
    public var isBangPath: Bool {
        !wasQuoted && localPart.utf8.contains(UInt8(ascii: "!"))
    }

    /// True when the local part itself names another route: `%`, `!` or `@` inside it
    /// (the percent hack, bang paths, quoted `"a@b"`).
    public var hasRoutingInLocalPart: Bool {
        localPart.utf8.contains { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "!") || $0 == UInt8(ascii: "@") }
    }
}

/// MAIL FROM's reverse-path: the null path `<>` or a mailbox.
public enum SMTPReversePath: Sendable, Equatable {
    case null
    case mailbox(SMTPMailbox)

    public var address: String {
        switch self {
        case .null: ""
        case .mailbox(let mailbox): mailbox.address
        }
    }
}

/// Why a path did not parse.
public enum SMTPPathError: Error, Sendable, Equatable {
    case syntax
    case localPartTooLong
    case domainTooLong
    case pathTooLong
}

/// Parses paths (RFC 5321 §4.1.2). Pure: bytes in, value out.
public enum SMTPPathParser {
    /// Parses `<...>` at the start of `bytes`; returns the mailbox (or nil for `<>` when
    /// `allowNull`) and the index just past `>`.
    ///
    /// ```
    /// Reverse-path = Path / "<>"
    /// Path         = "<" [ A-d-l ":" ] Mailbox ">"
    /// A-d-l        = At-domain *( "," At-domain )
    /// At-domain    = "@" Domain
    /// Mailbox      = Local-part "@" ( Domain / address-literal )
    /// ```
    public static func parsePath(_ bytes: ArraySlice<UInt8>, limits: SMTPLimits = SMTPLimits(), allowNull: Bool)
        throws(SMTPPathError) -> (SMTPMailbox?, ArraySlice<UInt8>.Index) {
        var index = bytes.startIndex
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "<") else { throw .syntax }
        let start = index
        index += 1
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ">") {
            guard allowNull else { throw .syntax }
            return (nil, index + 1)
        }
        var route: [String] = []
        // A-d-l ":"
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "@") {
            while true {
                guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "@") else { throw .syntax }
                index += 1
                let domainStart = index
                index = try scanDomain(bytes, from: index)
                route.append(String(decoding: bytes[domainStart..<index], as: UTF8.self))
                guard index < bytes.endIndex else { throw .syntax }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: ":") { index += 1; break }
                throw .syntax
            }
        }
        // Local-part = Dot-string / Quoted-string
        var local: [UInt8] = []
        var quoted = false
        guard index < bytes.endIndex else { throw .syntax }
        if bytes[index] == UInt8(ascii: "\"") {
            quoted = true
            index += 1
            var closed = false
            while index < bytes.endIndex {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { closed = true; break }
                if byte == UInt8(ascii: "\\") {
                    // quoted-pairSMTP = %d92 %d32-126
                    guard index < bytes.endIndex, bytes[index] >= 32, bytes[index] <= 126 else { throw .syntax }
                    local.append(bytes[index])
                    index += 1
                    continue
                }
                // qtextSMTP = %d32-33 / %d35-91 / %d93-126 (RFC 6531 adds UTF-8)
                guard (byte >= 32 && byte <= 126) || byte >= 0x80 else { throw .syntax }
                local.append(byte)
            }
            guard closed else { throw .syntax }
        } else {
            // Dot-string = Atom *("." Atom)
            var previousDot = true
            while index < bytes.endIndex, bytes[index] != UInt8(ascii: "@") {
                let byte = bytes[index]
                if byte == UInt8(ascii: ".") {
                    guard !previousDot else { throw .syntax }
                    previousDot = true
                } else {
                    guard SMTPByteClass.isAtext(byte) || byte >= 0x80 else { throw .syntax }
                    previousDot = false
                }
                local.append(byte)
                index += 1
            }
            guard !previousDot else { throw .syntax }
        }
        // RFC 5321 §4.5.3.1.1
        guard local.count <= limits.localPart else { throw .localPartTooLong }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "@") else { throw .syntax }
        index += 1
        let domainStart = index
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "[") {
            index = try scanAddressLiteral(bytes, from: index)
        } else {
            index = try scanDomain(bytes, from: index)
        }
        // RFC 5321 §4.5.3.1.2
        guard index - domainStart <= limits.domain else { throw .domainTooLong }
        let domainBytes = bytes[domainStart..<index]
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ">") else { throw .syntax }
        index += 1
        // RFC 5321 §4.5.3.1.3
        guard index - start <= limits.path else { throw .pathTooLong }
        guard let localText = String(validating: local, as: UTF8.self),
              let domainText = String(validating: domainBytes, as: UTF8.self) else { throw .syntax }
        return (SMTPMailbox(localPart: localText, wasQuoted: quoted, domain: domainText, sourceRoute: route), index)
    }

    /// `Domain = sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]`
    /// (RFC 5321 §4.1.2; RFC 6531 §3.3 allows U-labels: bytes ≥ 0x80).
    static func scanDomain(_ bytes: ArraySlice<UInt8>, from start: Int) throws(SMTPPathError) -> Int {
        var index = start
        var labelLength = 0
        var lastWasHyphen = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, !lastWasHyphen else { throw .syntax }
                labelLength = 0
            } else if SMTPByteClass.isLetDig(byte) || byte >= 0x80 {
                labelLength += 1
                lastWasHyphen = false
            } else if byte == UInt8(ascii: "-") {
                guard labelLength > 0 else { throw .syntax }
                labelLength += 1
                lastWasHyphen = true
            } else {
                break
            }
            // RFC 1035 §2.3.4: a label is at most 63 octets.
            guard labelLength <= 63 else { throw .domainTooLong }
            index += 1
        }
        guard labelLength > 0, !lastWasHyphen else { throw .syntax }
        return index
    }

    /// `address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"`:
    /// checked for characters only (dcontent = %d33-90 / %d94-126).
    static func scanAddressLiteral(_ bytes: ArraySlice<UInt8>, from start: Int) throws(SMTPPathError) -> Int {
        var index = start + 1
        var length = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "]") {
                guard length > 0 else { throw .syntax }
                return index + 1
            }
            guard byte >= 33, byte <= 126, byte != UInt8(ascii: "["), byte != UInt8(ascii: "\\") else { throw .syntax }
            length += 1
            index += 1
        }
        throw .syntax
    }
}

/// Byte classes of RFC 5321 §4.1.2 / RFC 5322 §3.2.3.
public enum SMTPByteClass {
    /// atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~"
    public static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    public static func isLetDig(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return false
        }
    }

    /// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    public static func isKeywordByte(_ byte: UInt8) -> Bool { isLetDig(byte) || byte == UInt8(ascii: "-") }
}
