import Synchronization

/// `esmtpdelay` (spec/mta.md §5.3.6): after no relay of a domain could be reached, further mail
/// for that domain is deferred at once with the same error for a while, instead of trying
/// every relay again for each message.
public final class UnreachableMemory: Sendable {
    private let entries = Mutex<[String: (until: ContinuousClock.Instant, text: String)]>([:])
    /// At most this many domains are remembered (the oldest entries go first).
    static let capacity = 10_000

    public init() {}

    /// The remembered error for `domain`, if its back-off is still running at `now`.
    public func deferral(for domain: String, now: ContinuousClock.Instant = .now) -> String? {
        entries.withLock { table in
            guard let entry = table[domain] else { return nil }
            if entry.until > now { return entry.text }
            table[domain] = nil
            return nil
        }
    }

    /// Remembers that `domain` could not be reached; `seconds` 0 turns the back-off off.
    public func remember(_ domain: String, text: String, seconds: Int64, now: ContinuousClock.Instant = .now) {
        guard seconds > 0 else { return }
        entries.withLock { table in
            if table.count >= Self.capacity {
                table = table.filter { $0.value.until > now }
                if table.count >= Self.capacity, let oldest = table.min(by: { $0.value.until < $1.value.until }) {
                    table[oldest.key] = nil
                }
            }
            table[domain] = (now + .seconds(seconds), text)
        }
    }
}
