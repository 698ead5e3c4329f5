/// One message to send in one SMTP transaction: the envelope and the bytes.
public struct ClientTransaction: Sendable {
    /// RFC 3461 §4.3 `RET=`.
    public enum Return: String, Sendable { case full = "FULL", headers = "HDRS" }

    /// A recipient with its RFC 3461 parameters.
    public struct Recipient: Sendable, Equatable {
        public var address: String
        /// `NOTIFY=` keywords (`NEVER`, or some of `SUCCESS`, `FAILURE`, `DELAY`); empty = not sent.
        public var notify: [String]
        /// `ORCPT=` as `type;address` (xtext-encoded when sent).
        public var originalRecipient: String?

        public init(address: String, notify: [String] = [], originalRecipient: String? = nil) {
            self.address = address
            self.notify = notify
            self.originalRecipient = originalRecipient
        }
    }

    /// The reverse-path without angle brackets; "" is the null sender.
    public var sender: String
    public var recipients: [Recipient]
    /// The message, lines ending in LF or CRLF, not dot-stuffed.
    public var body: [UInt8]
    /// The body has 8-bit bytes (queue record BODY=8BITMIME).
    public var eightBit: Bool
    /// Addresses or headers need SMTPUTF8 (RFC 6531).
    public var smtpUTF8: Bool
    public var dsnReturn: Return?
    public var envelopeID: String?
    /// The message was submitted with VERP (queue record `V`, spec/mta.md §2.10): a server
    /// with Courier's VERP extension gets `VERP` in MAIL FROM; any other gets one transaction
    /// per recipient, each with its own return path (`VERPAddress`).
    public var verp: Bool

    public init(sender: String, recipients: [Recipient], body: [UInt8], eightBit: Bool = false,
                smtpUTF8: Bool = false, dsnReturn: Return? = nil, envelopeID: String? = nil, verp: Bool = false) {
        self.verp = verp
        self.sender = sender
        self.recipients = recipients
        self.body = body
        self.eightBit = eightBit
        self.smtpUTF8 = smtpUTF8
        self.dsnReturn = dsnReturn
        self.envelopeID = envelopeID
    }
}

/// What became of one recipient of a transaction.
public struct RecipientResult: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        /// 2xx at the end of DATA.
        case delivered
        /// 4xx, or the connection failed: try again later.
        case deferred
        /// 5xx: bounce.
        case failed
    }

    public var status: Status
    /// The reply that decided it (or a made-up one for local decisions and lost connections).
    public var reply: ClientReply
    /// The command that reply answered (`RCPT TO:<…>`, `DATA`, …), for the DSN transcript.
    public var command: String
    /// Delivered to a server that announced DSN (RFC 3461): NOTIFY went along with the
    /// recipient, so reporting success is that server's job from now on (spec/mta.md §4.8).
    public var dsnPassedOn: Bool

    public init(status: Status, reply: ClientReply, command: String, dsnPassedOn: Bool = false) {
        self.status = status
        self.reply = reply
        self.command = command
        self.dsnPassedOn = dsnPassedOn
    }

    /// Status from a reply code: 2xx delivered, 5xx failed, anything else deferred.
    static func status(of reply: ClientReply) -> Status {
        reply.isPositive ? .delivered : reply.isPermanentFailure ? .failed : .deferred
    }
}
