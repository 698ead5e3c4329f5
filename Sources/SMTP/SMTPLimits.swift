/// Every size limit of the SMTP protocol module in one place, each with where it comes from.
public struct SMTPLimits: Sendable, Equatable {
    /// Longest command line we keep, CRLF included. Courier's line buffer is 5120 bytes
    /// (spec/mta.md §2.3); RFC 5321 §4.5.3.1.4 asks for at least 512.
    public var commandLine: Int = 5120
    /// RFC 5321 §4.5.3.1.1: local-part ≤ 64 octets.
    public var localPart: Int = 64
    /// RFC 5321 §4.5.3.1.2: domain ≤ 255 octets.
    public var domain: Int = 255
    /// RFC 5321 §4.5.3.1.3: path ≤ 256 octets including the angle brackets.
    public var path: Int = 256
    /// Longest text line in DATA, without its line end. RFC 5321 §4.5.3.1.6 says 1000 octets
    /// with CRLF; real mail exceeds that, so the default is generous and only bounds abuse.
    public var dataLine: Int = 100_000
    /// Message size in bytes after dot-unstuffing; 0 = unlimited. Courier: `sizelimit`,
    /// default 10485760 (spec/mta.md §2.11).
    public var messageSize: Int = 10_485_760
    /// Recipients per transaction: `bofh maxrcpts`, default 100 (spec/mta.md §2.11).
    public var recipients: Int = 100
    /// `maxrcpts N hard`: excess recipients get 531 instead of 431.
    public var recipientsHard = false
    /// HELO/EHLO name kept for `Received:` (spec/mta.md §2.4: 255 characters).
    public var heloName: Int = 255

    public init() {}
}
