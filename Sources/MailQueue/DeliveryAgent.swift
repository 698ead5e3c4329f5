import NIOPosix

/// What one delivery attempt to one recipient came to.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered(String)
    /// Handed to another mail server (esmtp), named `remoteMTA`, which answered `reply` (the
    /// first text is for the log). `dsnPassedOn`: that server announced DSN and took the
    /// recipient's NOTIFY, so a success report is its job; else a NOTIFY=SUCCESS recipient gets
    /// a "relayed" report from us (RFC 3461 §4.1, spec/mta.md §4.8).
    case relayed(String, reply: String, remoteMTA: String, dsnPassedOn: Bool)
    /// Temporary failure: retried on Courier's schedule until `queuetime` runs out.
    case deferred(String)
    /// Permanent failure: the recipient bounces.
    case failed(String)
    /// Permanent failure given by a remote server (its reply), named in the bounce's
    /// `Remote-MTA:` field (RFC 3464 §2.3.5).
    /// `command` is what the server was answering (`RCPT TO:<…>`, `DATA`, …) for the report's
    /// transcript.
    case rejected(String, remoteMTA: String, command: String = "")
}

/// A queued message handed to a transport.
public struct DeliveryRequest: Sendable {
    public var header: QueuedMessageHeader
    public var body: [UInt8]
    public var recipientIndex: Int
    /// The message was read back after a restart: it may have been delivered just before
    /// the crash, so a transport that can tell should check (exactly-once delivery).
    public var mayBeRepeat: Bool
    /// `backuprelay` is set and the message has been queued past `warntime`: a remote
    /// recipient goes to this host (esmtproutes, MX, A/AAAA as for a domain), not to its domain.
    public var backupRelay: String?

    public var recipient: QueueRecipient { header.envelope.recipients[recipientIndex] }

    public init(header: QueuedMessageHeader, body: [UInt8], recipientIndex: Int, mayBeRepeat: Bool) {
        self.header = header
        self.body = body
        self.recipientIndex = recipientIndex
        self.mayBeRepeat = mayBeRepeat
    }
}

/// A transport (local delivery, esmtp). `deliver(_:)` is called on a thread-pool thread: it
/// may block. The scheduler hands over all pending recipients of a message at once through
/// `deliver(batch:threadPool:)`, so that a transport can send them together (esmtp: one SMTP
/// transaction per destination domain); by default it delivers them one by one.
public protocol DeliveryAgent: Sendable {
    func deliver(_ request: DeliveryRequest) -> DeliveryOutcome
    /// One outcome per request, in order.
    func deliver(batch requests: [DeliveryRequest], threadPool: NIOThreadPool) async -> [DeliveryOutcome]
}

extension DeliveryAgent {
    public func deliver(batch requests: [DeliveryRequest], threadPool: NIOThreadPool) async -> [DeliveryOutcome] {
        var outcomes: [DeliveryOutcome] = []
        outcomes.reserveCapacity(requests.count)
        for request in requests {
            outcomes.append((try? await threadPool.runIfActive { self.deliver(request) })
                ?? .deferred("delivery thread pool is not running"))
        }
        return outcomes
    }
}

/// A permanently failed recipient, for the bounce generator.
public struct FailedRecipient: Sendable, Equatable {
    public var index: Int
    public var recipient: QueueRecipient
    public var reason: String
    /// The server that refused the recipient (`dns` name or `[ip]`), when one did.
    public var remoteMTA: String?
    /// The command that server refused (for the report's `>>>` line), when known.
    public var command: String?

    public init(index: Int, recipient: QueueRecipient, reason: String, remoteMTA: String? = nil, command: String? = nil) {
        self.command = command
        self.index = index
        self.recipient = recipient
        self.reason = reason
        self.remoteMTA = remoteMTA
    }
}

/// A recipient delivered in a pass (for NOTIFY=SUCCESS reports).
public struct DeliveredRecipient: Sendable, Equatable {
    public var index: Int
    public var recipient: QueueRecipient
    public var text: String
    /// Handed to this mail server (esmtp) rather than delivered here.
    public var relayedTo: String?
    /// That server's reply (for the report's Diagnostic-Code).
    public var reply: String?
    /// The server took NOTIFY along (it announced DSN): no success report from us.
    public var dsnPassedOn: Bool

    public init(index: Int, recipient: QueueRecipient, text: String, relayedTo: String? = nil,
                reply: String? = nil, dsnPassedOn: Bool = false) {
        self.reply = reply
        self.index = index
        self.recipient = recipient
        self.text = text
        self.relayedTo = relayedTo
        self.dsnPassedOn = dsnPassedOn
    }
}

/// Delivery status notifications (`DSNGenerator`). Called after each delivery pass that
/// delivered or permanently failed recipients, before the new state is recorded.
public protocol BounceHandler: Sendable {
    func bounce(_ header: QueuedMessageHeader, body: [UInt8], failed: [FailedRecipient],
                delivered: [DeliveredRecipient]) async
    /// The delayed-mail warning (`warntime`, spec/mta.md §4.7, §4.8) for a message still
    /// pending for `delayed`. True when it is settled: no warning is wanted, or it was queued
    /// after `warnedState` (the message's state with `warned` set) was put in the queue log
    /// ahead of it, so a crash can lose the warning but never send it twice. False when it
    /// could not be queued (tried again after the next pass).
    func warn(_ header: QueuedMessageHeader, body: [UInt8], delayed: [DelayedRecipient],
              warnedState: QueueState) async -> Bool
}

extension BounceHandler {
    /// No warnings by default.
    public func warn(_ header: QueuedMessageHeader, body: [UInt8], delayed: [DelayedRecipient],
                     warnedState: QueueState) async -> Bool { true }
}

/// A recipient still pending when the delayed-mail warning is made, with its last deferral.
public struct DelayedRecipient: Sendable, Equatable {
    public var index: Int
    public var recipient: QueueRecipient
    /// The last pass' deferral text (a remote reply, a connection error…).
    public var reason: String

    public init(index: Int, recipient: QueueRecipient, reason: String) {
        self.index = index
        self.recipient = recipient
        self.reason = reason
    }
}
