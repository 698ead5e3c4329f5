/// What a server announced in its EHLO reply (RFC 5321 §4.1.1.1), as far as the client uses it.
public struct ServerCapabilities: Sendable, Equatable {
    /// RFC 1870: the server's limit, 0 when SIZE has no number; nil when not announced.
    public var size: Int?
    public var eightBitMIME = false
    public var pipelining = false
    public var dsn = false
    public var startTLS = false
    public var smtpUTF8 = false
    /// RFC 4954: upper-cased mechanism names, from `AUTH` and the old `AUTH=` form, merged.
    public var authMechanisms: [String] = []
    /// Courier's VERP extension (spec/mta.md §2.10): `XVERP` whose comma list names `Courier`;
    /// MAIL FROM may then carry `VERP` instead of one transaction per recipient.
    public var courierVERP = false

    public init() {}

    /// Parses the lines of a 250 reply to EHLO; the first line is the server's greeting name.
    public init(ehloLines: [[UInt8]]) {
        for raw in ehloLines.dropFirst() {
            let text = String(decoding: raw, as: UTF8.self).uppercased()
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = words.first else { continue }
            switch keyword {
            case "SIZE":
                size = words.count > 1 ? Int(words[1]) ?? 0 : 0
            case "8BITMIME": eightBitMIME = true
            case "PIPELINING": pipelining = true
            case "DSN": dsn = true
            case "STARTTLS": startTLS = true
            case "SMTPUTF8": smtpUTF8 = true
            case "AUTH":
                addMechanisms(words.dropFirst())
            case _ where keyword == "XVERP" || keyword.hasPrefix("XVERP="):
                // `XVERP=Courier` (or `XVERP Courier,...`): the list after `=` or the blank.
                let list = text.dropFirst(6)
                if list.split(separator: ",").contains("COURIER") {
                    courierVERP = true
                }
            default:
                // The pre-RFC 4954 form `AUTH=LOGIN PLAIN`.
                if keyword.hasPrefix("AUTH=") {
                    addMechanisms([String(keyword.dropFirst(5))] + words.dropFirst())
                }
            }
        }
    }

    private mutating func addMechanisms<S: Sequence>(_ names: S) where S.Element == String {
        for name in names where !name.isEmpty && !authMechanisms.contains(name) {
            authMechanisms.append(name)
        }
    }
}
