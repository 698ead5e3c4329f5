/// The contract between the receiving side (SMTP server, `sendmail`) and the durable queue.
///
/// A receiver opens a submission with the envelope, streams the message bytes into it as
/// they arrive (with the trace headers it adds), and calls `commit()`. `commit()` returns
/// only when the message and its envelope are on disk and fsynced, directory entries
/// included (DESIGN.md "Durability"): only then may the receiver answer `250`. `abort()`
/// (or dropping a submission without committing) leaves nothing behind.

/// DSN `RET=` (RFC 3461 §4.3).
public enum DSNReturn: String, Sendable, Equatable {
    case full = "FULL"
    case headers = "HDRS"
}

/// DSN `NOTIFY=` (RFC 3461 §4.1); empty means the parameter was not given (default: failure).
public struct DSNNotify: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let never = DSNNotify(rawValue: 1)
    public static let success = DSNNotify(rawValue: 2)
    public static let failure = DSNNotify(rawValue: 4)
    public static let delay = DSNNotify(rawValue: 8)
}

/// One envelope recipient with its DSN parameters.
public struct QueueRecipient: Sendable, Equatable {
    /// The forward-path without angle brackets, as the client sent it (`user@example.com`).
    public var address: String
    public var notify: DSNNotify
    /// `ORCPT=` (RFC 3461 §4.2), as received (`rfc822;user@example.com`), xtext-decoded.
    public var originalRecipient: String?

    public init(address: String, notify: DSNNotify = [], originalRecipient: String? = nil) {
        self.address = address
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// Where a message came from, as Courier's backscatter settings name it (spec/mta.md §4.10):
/// `smtp` (an unauthenticated SMTP client), `authsmtp` (an authenticated one), or anything else.
public enum MessageSource: UInt8, Sendable, Equatable {
    case other = 0
    case smtp = 1
    case authenticatedSMTP = 2

    /// Courier's name (`smtp`, `authsmtp`), nil for other sources.
    public var courierName: String? {
        switch self {
        case .other: nil
        case .smtp: "smtp"
        case .authenticatedSMTP: "authsmtp"
        }
    }
}

/// Everything about a message except its bytes.
public struct QueueEnvelope: Sendable, Equatable {
    /// The reverse-path without angle brackets; "" is the null sender `<>` (bounces).
    public var sender: String
    public var recipients: [QueueRecipient]
    public var dsnReturn: DSNReturn?
    /// `ENVID=` (RFC 3461 §4.4), xtext-decoded.
    public var envelopeID: String?
    /// Courier's XVERP: request per-recipient VERP for bounces of this message.
    public var verp: Bool
    /// The message body is 8-bit (BODY=8BITMIME) / needs SMTPUTF8.
    public var eightBit: Bool
    public var smtputf8: Bool
    /// Who handed it to us: the client's IP address, the HELO/EHLO name, and the
    /// authenticated user if any (for logs, Received, and `authsender` rules).
    public var clientAddress: String?
    public var heloName: String?
    public var authenticatedUser: String?
    /// Where the message came from (`ESMTP_BLOCKBACKSCATTER`, `BOFHSUPPRESSBACKSCATTER`).
    public var source: MessageSource = .other
    /// For a delivery report we made: the source of the message it reports on (a bounce of
    /// unauthenticated SMTP mail is backscatter, which the esmtp transport may drop).
    public var reportOn: MessageSource?
    /// Its recipients' delivery results feed the backscatter suppression list: its source is
    /// in `BOFHSUPPRESSBACKSCATTER` (Courier's `T` control record, spec/mta.md §4.10).
    public var tracked = false

    public init(sender: String, recipients: [QueueRecipient], dsnReturn: DSNReturn? = nil,
                envelopeID: String? = nil, verp: Bool = false, eightBit: Bool = false,
                smtputf8: Bool = false, clientAddress: String? = nil, heloName: String? = nil,
                authenticatedUser: String? = nil) {
        self.sender = sender
        self.recipients = recipients
        self.dsnReturn = dsnReturn
        self.envelopeID = envelopeID
        self.verp = verp
        self.eightBit = eightBit
        self.smtputf8 = smtputf8
        self.clientAddress = clientAddress
        self.heloName = heloName
        self.authenticatedUser = authenticatedUser
    }
}

/// A queue id as Courier-style logs and `mailq` show it.
public struct QueueID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// Why the queue refused a message: the receiver maps these to SMTP replies.
public enum QueueError: Error, Sendable, Equatable {
    /// Disk full or quota of the queue: 452 / 4.3.1, try later.
    case insufficientStorage
    /// The message exceeds `sizelimit`: 552 / 5.3.4.
    case messageTooBig(limit: Int)
    /// Any other local problem (I/O error): 451 / 4.3.0, logged as our fault.
    case temporaryFailure(String)
}

/// One message being received.
public protocol MessageSubmission: AnyObject, Sendable {
    /// Appends message bytes (the data after dot-unstuffing, line ends as stored: LF).
    func write(_ bytes: [UInt8]) async throws
    /// Appends bytes at once when that needs no I/O (kept in memory); false: nothing was
    /// done, use `write`. Lets a receiver skip a task hop per chunk of an ordinary message.
    func writeInMemory(_ bytes: [UInt8]) -> Bool
    /// Makes the message durable and schedules delivery; returns its queue id.
    func commit() async throws -> QueueID
    /// Commits without a task hop when the submission can (an in-memory message):
    /// `completion` runs, on whatever thread made the message durable, once it is on disk
    /// and fsynced (or with the failure). False: nothing was done, use `commit()`.
    func commit(completion: @escaping @Sendable (Result<QueueID, QueueError>) -> Void) -> Bool
    /// Forgets the message; nothing of it stays on disk.
    func abort() async
}

extension MessageSubmission {
    public func writeInMemory(_ bytes: [UInt8]) -> Bool { false }
    public func commit(completion: @escaping @Sendable (Result<QueueID, QueueError>) -> Void) -> Bool { false }
}

/// The durable queue as receivers see it.
public protocol MessageQueue: Sendable {
    func submit(_ envelope: QueueEnvelope) async throws -> any MessageSubmission
    /// A submission opened at once, when that needs no waiting (the queue is open); nil: use `submit`.
    func submitNow(_ envelope: QueueEnvelope) -> (any MessageSubmission)?
}

extension MessageQueue {
    public func submitNow(_ envelope: QueueEnvelope) -> (any MessageSubmission)? { nil }
}
