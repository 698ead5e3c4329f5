import Synchronization

/// Failures remembered for a while, by key, each with the text to report while it lasts.
///
/// The esmtp transport keeps two: `esmtpdelay` (spec/mta.md §5.3.6: after no relay of a domain
/// could be reached, further mail for that domain is deferred at once with the same error
/// instead of trying every relay again for each message), and relays whose STARTTLS broke
/// (opportunistic TLS skips them for two hours, spec/mta.md §5.3.4).
public final class BackoffTable: Sendable {
    private let entries = Mutex<[String: (until: ContinuousClock.Instant, text: String)]>([:])
    /// At most this many keys are remembered (the oldest entries go first).
    static let capacity = 10_000

    public init() {}

    /// The remembered error for `key`, if its back-off is still running at `now`.
    public func deferral(for key: String, now: ContinuousClock.Instant = .now) -> String? {
        entries.withLock { table in
            guard let entry = table[key] else { return nil }
            if entry.until > now { return entry.text }
            table[key] = nil
            return nil
        }
    }

    /// Remembers a failure for `key` for `seconds`; 0 turns the back-off off.
    public func remember(_ key: String, text: String, seconds: Int64, now: ContinuousClock.Instant = .now) {
        guard seconds > 0 else { return }
        entries.withLock { table in
            if table.count >= Self.capacity {
                table = table.filter { $0.value.until > now }
                if table.count >= Self.capacity, let oldest = table.min(by: { $0.value.until < $1.value.until }) {
                    table[oldest.key] = nil
                }
            }
            table[key] = (now + .seconds(seconds), text)
        }
    }
}
