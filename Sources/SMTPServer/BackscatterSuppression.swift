import MailQueue
import SMTP

/// The RCPT side of Courier's backscatter suppression (spec/mta.md §2.12 RCPT step 8, §4.10):
/// for mail from a source listed in `BOFHSUPPRESSBACKSCATTER` (`smtp`: clients that may not
/// relay, `authsmtp`: clients that may; default `smtp`; `none` lists nothing), a recipient
/// whose tracked delivery failed or was deferred in the last two hours is refused.
struct BackscatterSuppression: Sendable {
    /// Courier's source names whose messages are tracked and checked.
    var sources: Set<String>
    var store: SuppressionStore
    /// The configuration generation: a reload (SIGHUP, sent by `courier clear`) rereads the list.
    var generation: @Sendable () -> Int

    /// `BOFHSUPPRESSBACKSCATTER`'s comma list (Courier splits on commas only).
    static func sources(_ value: String?) -> Set<String> {
        Set((value ?? "smtp").split(separator: ",").map(String.init))
    }

    /// The source name of a message from a client that may relay or not.
    static func source(relayClient: Bool) -> MessageSource {
        relayClient ? .authenticatedSMTP : .smtp
    }

    func tracks(_ source: MessageSource) -> Bool {
        source.courierName.map(sources.contains) ?? false
    }

    /// The answer from memory when the list is fresh: `.some(nil)` accepts, `.none` means
    /// `refusal(for:)` must run (off the event loop).
    func cachedRefusal(for address: String, now: Int64) -> SMTPReply?? {
        guard let list = store.cached(generation: generation()) else { return .none }
        return .some(Self.reply(list.refusal(for: address, now: now)))
    }

    /// Reads the list if it changed (blocks briefly: call off the event loop).
    func refusal(for address: String, now: Int64) -> SMTPReply? {
        Self.reply(store.current(generation: generation()).refusal(for: address, now: now))
    }

    static func reply(_ status: SuppressionList.Status?) -> SMTPReply? {
        switch status {
        case .failed: Replies.addressUnavailable
        case .deferred: Replies.addressTemporarilyUnavailable
        case nil: nil
        }
    }
}
