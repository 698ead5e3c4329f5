/// What a session needs to know about its listener and site (from the `imapd`/`imapd-ssl`
/// files, spec/access.md §2.7-2.8).
public struct IMAPSessionConfiguration: Sendable {
    /// `IMAP_CAPABILITY` words (without STARTTLS/LOGINDISABLED/AUTH=, which the session adds).
    public var capabilities: [String]
    /// `IMAP_CAPABILITY_TLS` words used once TLS is active (nil: same as `capabilities`).
    public var capabilitiesTLS: [String]?
    /// SASL mechanisms the server can run (AUTH=…).
    public var authMechanisms: [String]
    public var tlsAvailable: Bool
    public var tlsActive: Bool
    /// `IMAP_TLS_REQUIRED=1`: no login before STARTTLS.
    public var tlsRequired: Bool
    /// Plaintext passwords allowed on this connection without TLS (loopback, MailAuth.PlaintextPolicy).
    public var plaintextAllowedWithoutTLS: Bool
    public var greeting: String
    public var limits: IMAPLimits
    /// Close after this many consecutive BAD/NO-for-syntax commands.
    public var maxConsecutiveErrors = 20

    public init(capabilities: [String] = Self.defaultCapabilities, capabilitiesTLS: [String]? = nil,
                authMechanisms: [String] = ["PLAIN", "LOGIN"], tlsAvailable: Bool = false, tlsActive: Bool = false,
                tlsRequired: Bool = false, plaintextAllowedWithoutTLS: Bool = true,
                greeting: String = "Courier-IMAP ready.", limits: IMAPLimits = IMAPLimits()) {
        self.capabilities = capabilities
        self.capabilitiesTLS = capabilitiesTLS
        self.authMechanisms = authMechanisms
        self.tlsAvailable = tlsAvailable
        self.tlsActive = tlsActive
        self.tlsRequired = tlsRequired
        self.plaintextAllowedWithoutTLS = plaintextAllowedWithoutTLS
        self.greeting = greeting
        self.limits = limits
    }

    /// Courier's default `IMAP_CAPABILITY` plus the extensions this server implements beyond it.
    public static let defaultCapabilities = [
        "IMAP4rev1", "IMAP4rev2", "UIDPLUS", "CHILDREN", "NAMESPACE", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES",
        "SORT", "QUOTA", "IDLE", "LITERAL+", "MOVE", "UNSELECT", "SPECIAL-USE", "SASL-IR", "ESEARCH", "ID",
        "LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "MULTIAPPEND",
        "SEARCHRES", "BINARY", "CREATE-SPECIAL-USE", "APPENDLIMIT",
        "CONDSTORE", "QRESYNC",
    ]
}
