import NIOConcurrencyHelpers

/// couriertcpd's `MAXDAEMONS` and `MAXPERIP` for one POP3 listener (0: no limit).
final class POP3ConnectionLimiter: Sendable {
    private let state = NIOLockedValueBox<(total: Int, perAddress: [String: Int])>((0, [:]))
    let maxTotal: Int
    let maxPerAddress: Int

    init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Counts a new session; false when it is over a limit.
    func admit(_ address: String) -> Bool {
        state.withLockedValue { state in
            let current = state.perAddress[address, default: 0]
            if maxTotal > 0 && state.total >= maxTotal { return false }
            if maxPerAddress > 0 && current >= maxPerAddress { return false }
            state.total += 1
            state.perAddress[address] = current + 1
            return true
        }
    }

    func release(_ address: String) {
        state.withLockedValue { state in
            state.total -= 1
            let current = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = current > 0 ? current : nil
        }
    }
}
