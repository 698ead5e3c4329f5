/// One parsed SMTP command (RFC 5321 §4.1.1, with the extensions this server knows).
public enum SMTPCommand: Sendable, Equatable {
    case ehlo(String)
    case helo(String)
    case mail(SMTPReversePath, MailParameters)
    case rcpt(SMTPMailbox, RcptParameters)
    case data
    /// RFC 3030 `BDAT size [LAST]` (CHUNKING: offered where `SMTPSessionConfiguration.chunking`).
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help(String)
    case startTLS
    /// RFC 4954 `AUTH mechanism [initial-response]`; the response is kept out of descriptions.
    case auth(mechanism: String, initialResponse: String?)

    /// The verb, for logs (never the arguments of AUTH).
    public var verb: SMTPVerb {
        switch self {
        case .ehlo: .ehlo
        case .helo: .helo
        case .mail: .mail
        case .rcpt: .rcpt
        case .data: .data
        case .bdat: .bdat
        case .rset: .rset
        case .noop: .noop
        case .quit: .quit
        case .vrfy: .vrfy
        case .expn: .expn
        case .help: .help
        case .startTLS: .startTLS
        case .auth: .auth
        }
    }
}

/// The verbs, with what the state machine needs to know about each (STYLE.md "command table").
public enum SMTPVerb: String, Sendable, CaseIterable {
    case ehlo = "EHLO", helo = "HELO", mail = "MAIL", rcpt = "RCPT", data = "DATA", bdat = "BDAT"
    case rset = "RSET", noop = "NOOP", quit = "QUIT", vrfy = "VRFY", expn = "EXPN", help = "HELP"
    case startTLS = "STARTTLS", auth = "AUTH"

    /// Commands allowed before STARTTLS when TLS is required (spec/mta.md §2.2 `ESMTP_TLS_REQUIRED`).
    public var allowedBeforeTLS: Bool {
        switch self {
        case .quit, .ehlo, .helo, .startTLS, .rset, .noop: true
        default: false
        }
    }

    /// Commands allowed before AUTH when it is required (spec/mta.md §2.2 `AUTH_REQUIRED`).
    public var allowedBeforeAuth: Bool {
        switch self {
        case .quit, .ehlo, .helo, .startTLS, .auth, .noop, .rset: true
        default: false
        }
    }
}

/// MAIL FROM parameters (RFC 5321 §4.1.2 Mail-parameters).
public struct MailParameters: Sendable, Equatable {
    public enum Body: String, Sendable, Equatable {
        case sevenBit = "7BIT"
        case eightBitMIME = "8BITMIME"
        case binaryMIME = "BINARYMIME"
    }
    /// RFC 1870 SIZE.
    public var size: Int?
    /// RFC 6152 BODY.
    public var body: Body?
    /// RFC 3461 §4.3 RET=FULL|HDRS.
    public var ret: DSNRet?
    /// RFC 3461 §4.4 ENVID (xtext-decoded).
    public var envelopeID: String?
    /// RFC 6531 §3.4 SMTPUTF8.
    public var smtputf8 = false
    /// Courier VERP / XVERP (spec/mta.md §2.10).
    public var verp = false
    /// Courier SECURITY=STARTTLS (spec/mta.md §2.10).
    public var securityStartTLS = false
    /// RFC 4954 §5 AUTH= (xtext-decoded; kept, not trusted).
    public var auth: String?

    public init() {}
}

/// DSN RET (RFC 3461 §4.3).
public enum DSNRet: String, Sendable, Equatable {
    case full = "FULL"
    case headers = "HDRS"
}

/// RCPT TO parameters (RFC 3461 §4.1, §4.2).
public struct RcptParameters: Sendable, Equatable {
    public struct Notify: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let never = Notify(rawValue: 1)
        public static let success = Notify(rawValue: 2)
        public static let failure = Notify(rawValue: 4)
        public static let delay = Notify(rawValue: 8)
    }
    public var notify: Notify = []
    /// `ORCPT=addr-type;xtext`, decoded: `rfc822;user@example.com`.
    public var originalRecipient: String?

    public init() {}
}
