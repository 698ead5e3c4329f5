#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics

/// Sends delivery status notifications for a `DurableQueue` (spec/mta.md §4.8): after a
/// delivery pass, recipients that failed for good are reported unless their NOTIFY excludes
/// FAILURE, local deliveries (and hand-overs to servers without DSN, as "relayed") are
/// reported when NOTIFY asked for SUCCESS, and once `warntime`
/// has passed, recipients still pending get one delayed-mail warning unless NOTIFY excludes DELAY. The report goes
/// back into the same queue with the null sender, so it is as durable as any message. A report
/// that fails goes to the postmaster from Courier's `#@[]`, and that one's failure to nobody.
public struct DSNGenerator: BounceHandler {
    let queue: DurableQueue
    let report: DSNReport
    let logger: Logger
    /// `DSNTOAUTHADDR` (courierd): reports about mail sent by an authenticated client go to its
    /// login when that is a full ASCII `user@domain` address, not to the envelope sender.
    public var toAuthenticatedAddress = false

    static let bounced = Counter(label: "courier_messages_bounced_total")
    static let reportsSent = Counter(label: "courier_dsn_sent_total")

    public init(queue: DurableQueue, report: DSNReport, logger: Logger) {
        self.queue = queue
        self.report = report
        self.logger = logger
    }

    /// Which of this pass' outcomes the sender asked to hear about (RFC 3461 §4.1).
    static func entries(failed: [FailedRecipient], delivered: [DeliveredRecipient]) -> [DSNReport.Entry] {
        var entries: [DSNReport.Entry] = []
        for success in delivered where success.recipient.notify.contains(.success) && !success.recipient.notify.contains(.never) {
            // spec/mta.md §4.8: a server that announced DSN took NOTIFY along and reports the
            // success itself; one without DSN is a gateway: "relayed" (RFC 3464 §2.3.3).
            if success.dsnPassedOn { continue }
            entries.append(DSNReport.Entry(recipient: success.recipient, action: success.relayedTo == nil ? .delivered : .relayed,
                                           text: success.reply ?? success.text, remoteMTA: success.relayedTo))
        }
        for failure in failed {
            let notify = failure.recipient.notify
            // Empty NOTIFY = the default: report failures.
            guard !notify.contains(.never), notify.isEmpty || notify.contains(.failure) else { continue }
            entries.append(DSNReport.Entry(recipient: failure.recipient, action: .failed, text: failure.reason,
                                           remoteMTA: failure.remoteMTA, command: failure.command))
        }
        return entries
    }

    /// The pending recipients a delayed-mail warning reports (spec/mta.md §4.8): NOTIFY
    /// contains DELAY, or NOTIFY was not given (Courier's default, `DSNDEFAULTNOTIFYDELAY`).
    static func delayEntries(_ delayed: [DelayedRecipient], expires: Int64) -> [DSNReport.Entry] {
        delayed.compactMap { pending in
            let notify = pending.recipient.notify
            guard !notify.contains(.never), notify.isEmpty || notify.contains(.delay) else { return nil }
            return DSNReport.Entry(recipient: pending.recipient, action: .delayed, text: pending.reason,
                                   willRetryUntil: expires)
        }
    }

    /// Where reports about this message go (spec/mta.md §4.8): the envelope sender, or with
    /// `DSNTOAUTHADDR` the authenticated address.
    func reportAddress(_ envelope: QueueEnvelope) -> String {
        let sender = envelope.sender
        guard toAuthenticatedAddress, !sender.isEmpty, sender != "#@[]", let login = envelope.authenticatedUser,
              login.contains("@"), !login.hasPrefix("@"), !login.hasSuffix("@"),
              login.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else { return sender }
        return login
    }

    public func warn(_ header: QueuedMessageHeader, body: [UInt8], delayed: [DelayedRecipient],
                     warnedState: QueueState) async -> Bool {
        // Never a warning about a report (null sender, or Courier's `#@[]`).
        guard !header.envelope.sender.isEmpty, header.envelope.sender != "#@[]" else { return true }
        let sender = reportAddress(header.envelope)
        let entries = Self.delayEntries(delayed, expires: header.expires)
        guard !entries.isEmpty else { return true }
        let now = Int64(time(nil))
        let bytes = report.build(to: sender, header: header, body: body, entries: entries, now: now,
                                 messageID: "courier.delay.\(header.id.rawValue)")
        var envelope = QueueEnvelope(sender: "", recipients: [QueueRecipient(address: sender)])
        envelope.reportOn = header.envelope.source
        do {
            let id = try await queue.acceptWarning(about: header.id, warnedState: warnedState, envelope: envelope,
                                                   body: bytes)
            Self.reportsSent.increment()
            logger.info("id=\(header.id): DSN (delayed) to <\(sender)> queued as \(id)")
            return true
        } catch {
            logger.error("id=\(header.id): cannot queue the delay warning to <\(sender)>: \(error)")
            return false
        }
    }

    public func bounce(_ header: QueuedMessageHeader, body: [UInt8], failed: [FailedRecipient],
                       delivered: [DeliveredRecipient]) async {
        if !failed.isEmpty { Self.bounced.increment() }
        var entries = Self.entries(failed: failed, delivered: delivered)
        guard !entries.isEmpty else { return }
        let sender = header.envelope.sender
        // Courier's triple-bounce marker: a report about a report about a report is never made.
        guard sender != "#@[]" else {
            logger.info("id=\(header.id): no DSN for a double bounce")
            return
        }
        var reportTo = reportAddress(header.envelope)
        var reportSender = ""
        if sender.isEmpty {
            // spec/mta.md §4.8: a report (null sender) that fails goes to the postmaster, from
            // `#@[]` so that its own failure ends there (a "double bounce"); no success reports.
            entries = entries.filter { $0.action == .failed }
            guard !entries.isEmpty else { return }
            reportTo = "postmaster"
            reportSender = "#@[]"
        }
        let now = Int64(time(nil))
        let bytes = report.build(to: reportTo, header: header, body: body, entries: entries, now: now,
                                 messageID: "courier.dsn.\(header.id.rawValue)")
        var envelope = QueueEnvelope(sender: reportSender, recipients: [QueueRecipient(address: reportTo)])
        envelope.reportOn = header.envelope.source
        do {
            let id = try await queue.accept(envelope: envelope, body: bytes)
            Self.reportsSent.increment()
            let actions = Set(entries.map(\.action.rawValue)).sorted().joined(separator: ",")
            logger.info("id=\(header.id): DSN (\(actions)) to <\(reportTo)> queued as \(id)")
        } catch {
            logger.error("id=\(header.id): cannot queue the DSN to <\(reportTo)>: \(error)")
        }
    }
}
