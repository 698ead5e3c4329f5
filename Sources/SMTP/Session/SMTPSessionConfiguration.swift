/// What a session needs to know about its listener and site (spec/mta.md §2.2).
public struct SMTPSessionConfiguration: Sendable, Equatable {
    /// `me`, as the greeting, HELO and EHLO replies show it.
    public var hostname: String
    /// A certificate is configured, so STARTTLS can be offered.
    public var tlsAvailable: Bool
    /// The connection is already under TLS (esmtpd-ssl, implicit TLS).
    public var tlsActive: Bool
    /// `ESMTPAUTH` (and `ESMTPAUTH_TLS` under TLS): SASL mechanisms offered; empty = no AUTH.
    public var authMechanisms: [String]
    public var authMechanismsTLS: [String]
    /// `ESMTP_TLS_REQUIRED=1`.
    public var tlsRequired: Bool
    /// `AUTH_REQUIRED=1`.
    public var authRequired: Bool
    public var limits: SMTPLimits
    /// MAIL FROM asks the handler to check the sender (`bofh` badfrom/freemail, `BOFHCHECKDNS`,
    /// `BOFHCHECKHELO`): `Action.checkSender`.
    public var checksSender = false
    /// RFC 3030 CHUNKING: EHLO offers it and BDAT is taken. Off by default (Courier has no
    /// CHUNKING, and `sendmail -bs` does not read chunks); the network listeners turn it on.
    public var chunking = false

    public init(hostname: String, tlsAvailable: Bool = false, tlsActive: Bool = false,
                authMechanisms: [String] = [], authMechanismsTLS: [String] = [],
                tlsRequired: Bool = false, authRequired: Bool = false, limits: SMTPLimits = SMTPLimits()) {
        self.hostname = hostname
        self.tlsAvailable = tlsAvailable
        self.tlsActive = tlsActive
        self.authMechanisms = authMechanisms
        self.authMechanismsTLS = authMechanismsTLS
        self.tlsRequired = tlsRequired
        self.authRequired = authRequired
        self.limits = limits
    }
}

/// The envelope being collected: sender, parameters, accepted recipients.
public struct SMTPTransaction: Sendable, Equatable {
    public var sender: SMTPReversePath
    public var parameters: MailParameters
    public var recipients: [(SMTPMailbox, RcptParameters)]

    public init(sender: SMTPReversePath, parameters: MailParameters, recipients: [(SMTPMailbox, RcptParameters)] = []) {
        self.sender = sender
        self.parameters = parameters
        self.recipients = recipients
    }

    public static func == (lhs: SMTPTransaction, rhs: SMTPTransaction) -> Bool {
        lhs.sender == rhs.sender && lhs.parameters == rhs.parameters
            && lhs.recipients.count == rhs.recipients.count
            && zip(lhs.recipients, rhs.recipients).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
