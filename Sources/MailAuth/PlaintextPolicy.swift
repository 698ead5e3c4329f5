import MailAuthCore

/// Whether a mechanism that sends the password in the clear (LOGIN command, SASL PLAIN/LOGIN)
/// may be used on a connection (issue #4): always over TLS; without TLS only from loopback,
/// or where the configuration allows it (`allowInsecure`, e.g. Courier's
/// `IMAP_TLS_REQUIRED=0`-style settings the protocol servers map to this flag).
public enum PlaintextPolicy {
    /// The facts about a connection this decision needs.
    public struct Connection: Sendable {
        public var encrypted: Bool
        /// The peer's address as text (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`).
        public var peerAddress: String

        public init(encrypted: Bool, peerAddress: String) {
            self.encrypted = encrypted
            self.peerAddress = peerAddress
        }
    }

    /// True when `mechanism` may be offered and used on `connection`.
    public static func allows(_ mechanism: SASLMechanism, on connection: Connection, allowInsecure: Bool = false) -> Bool {
        guard mechanism.sendsPasswordInClear else { return true }
        return allowsPlaintextPasswords(on: connection, allowInsecure: allowInsecure)
    }

    /// True when clear passwords (IMAP LOGIN, POP3 USER/PASS) may be used on `connection`.
    public static func allowsPlaintextPasswords(on connection: Connection, allowInsecure: Bool = false) -> Bool {
        connection.encrypted || allowInsecure || isLoopback(connection.peerAddress)
    }

    /// The mechanisms to advertise, in our preference order.
    public static func offered(on connection: Connection, allowInsecure: Bool = false,
                               enabled: [SASLMechanism] = [.scramSHA256, .scramSHA1, .cramSHA256, .cramSHA1, .cramMD5, .plain, .login]) -> [SASLMechanism] {
        enabled.filter { allows($0, on: connection, allowInsecure: allowInsecure) }
    }

    /// 127.0.0.0/8, ::1, and IPv4-mapped loopback.
    public static func isLoopback(_ address: String) -> Bool {
        var text = address.lowercased()
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text == "::1" || text == "0:0:0:0:0:0:0:1" { return true }
        if text.hasPrefix("::ffff:") { text = String(text.dropFirst(7)) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }
}
