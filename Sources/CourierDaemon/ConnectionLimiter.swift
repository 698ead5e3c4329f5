import Synchronization

/// couriertcpd's `MAXDAEMONS` and `MAXPERIP` (spec/mta.md §2.2): at most this many sessions in
/// all and per client address. Shared by the channels of one listener; every server (SMTP, IMAP,
/// POP3) uses this one, so 0 means "no limit" everywhere.
public final class ConnectionLimiter: Sendable {
    public enum Refusal: Sendable { case total, perAddress }

    private let state = Mutex<(total: Int, perAddress: [String: Int])>((0, [:]))
    public let maxTotal: Int
    public let maxPerAddress: Int

    /// 0 means no limit.
    public init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Counts a new session, or says why it is refused.
    public func admit(_ address: String) -> Refusal? {
        state.withLock { state in
            if maxTotal > 0 && state.total >= maxTotal { return .total }
            let current = state.perAddress[address, default: 0]
            if maxPerAddress > 0 && current >= maxPerAddress { return .perAddress }
            state.total += 1
            state.perAddress[address] = current + 1
            return nil
        }
    }

    public func release(_ address: String) {
        state.withLock { state in
            state.total -= 1
            let current = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = current > 0 ? current : nil
        }
    }
}
