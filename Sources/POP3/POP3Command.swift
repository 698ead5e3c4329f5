/// One POP3 command line, parsed (RFC 1939 §3: a keyword of 3–4 printable characters,
/// case-insensitive, then arguments separated by single spaces).
public enum POP3Command: Equatable, Sendable {
    case capa
    case user(String)
    case pass(String)
    /// RFC 1939 §7: `APOP name digest`.
    case apop(user: String, digest: String)
    case auth(mechanism: String, initialResponse: String?)
    case stls
    case utf8
    /// RFC 6856 §3: `LANG` (nil: list the languages) or `LANG tag`.
    case lang(String?)
    case stat
    case list(String?)
    case uidl(String?)
    case top(String, String)
    case retr(String)
    case dele(String)
    case rset
    case noop
    case quit
    /// Anything else, a missing argument, or bytes that are not a command.
    case invalid

    /// Longest command line accepted (bytes, without CRLF). RFC 2449 §4 allows 255 octets
    /// for commands; SASL initial responses are longer, so the bound is wider.
    public static let maxLineBytes = 8192

    /// Parses one line (without its line end). Never fails: garbage is `.invalid`.
    public static func parse(_ line: ArraySlice<UInt8>) -> POP3Command {
        guard line.count <= maxLineBytes else { return .invalid }
        var bytes = line
        while let last = bytes.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        let words = bytes.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        guard let first = words.first, first.count <= 8 else { return .invalid }
        let keyword = String(decoding: first.map { $0 >= 0x61 && $0 <= 0x7a ? $0 - 0x20 : $0 }, as: UTF8.self)
        // PASS takes the rest of the line verbatim (passwords may contain spaces).
        func rest() -> String? {
            guard let start = bytes.firstIndex(of: UInt8(ascii: " ")) else { return nil }
            var tail = bytes[(start + 1)...]
            while tail.first == UInt8(ascii: " ") { tail = tail.dropFirst() }
            return String(decoding: tail, as: UTF8.self)
        }
        let arguments = words.dropFirst().map { String(decoding: $0, as: UTF8.self) }
        func one() -> String? { arguments.count == 1 ? arguments[0] : nil }
        func optional() -> String?? { arguments.isEmpty ? .some(nil) : arguments.count == 1 ? .some(arguments[0]) : nil }
        switch keyword {
        case "CAPA": return arguments.isEmpty ? .capa : .invalid
        case "USER": return rest().map { .user($0) } ?? .invalid
        case "PASS": return rest().map { .pass($0) } ?? .invalid
        case "APOP": return arguments.count == 2 ? .apop(user: arguments[0], digest: arguments[1]) : .invalid
        case "AUTH":
            guard !arguments.isEmpty else { return .invalid }
            let parts = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            guard parts.count == 2 || parts.count == 3 else { return .invalid }
            return .auth(mechanism: String(decoding: parts[1], as: UTF8.self),
                         initialResponse: parts.count == 3 ? String(decoding: parts[2], as: UTF8.self) : nil)
        case "STLS": return arguments.isEmpty ? .stls : .invalid
        case "UTF8": return .utf8
        case "LANG": return .lang(rest().flatMap { $0.isEmpty ? nil : $0 })
        case "STAT": return .stat
        case "LIST": return optional().map { .list($0) } ?? .invalid
        case "UIDL": return optional().map { .uidl($0) } ?? .invalid
        case "TOP":
            let parts = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            guard parts.count == 3 else { return .invalid }
            return .top(String(decoding: parts[1], as: UTF8.self), String(decoding: parts[2], as: UTF8.self))
        case "RETR": return one().map { .retr($0) } ?? .invalid
        case "DELE": return one().map { .dele($0) } ?? .invalid
        case "RSET": return .rset
        case "NOOP": return .noop
        case "QUIT": return .quit
        default: return .invalid
        }
    }
}
