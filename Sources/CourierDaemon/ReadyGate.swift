import Synchronization

/// Counts services that have finished starting (bound their sockets) so the daemon can say
/// `ready` only when every one of them accepts connections.
public final class ReadyGate: Sendable {
    private struct State {
        var waiting: Int
        var continuations: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    /// A gate that opens after `expected` calls to `markReady()`.
    public init(expected: Int) {
        state = Mutex(State(waiting: max(0, expected)))
    }

    /// One service is ready.
    public func markReady() {
        let resumed: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard state.waiting > 0 else { return [] }
            state.waiting -= 1
            guard state.waiting == 0 else { return [] }
            defer { state.continuations = [] }
            return state.continuations
        }
        for continuation in resumed { continuation.resume() }
    }

    public var isOpen: Bool { state.withLock { $0.waiting == 0 } }

    /// Returns once every expected service is ready.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let openNow = state.withLock { state in
                if state.waiting == 0 { return true }
                state.continuations.append(continuation)
                return false
            }
            if openNow { continuation.resume() }
        }
    }
}
