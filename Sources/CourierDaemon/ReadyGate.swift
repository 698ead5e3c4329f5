import Synchronization

/// Counts services that have finished starting (bound their sockets) so the daemon can say
/// `ready` only when every one of them accepts connections.
public final class ReadyGate: Sendable {
    private struct State {
        var waiting: Int
        var continuations: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
    }

    private let state: Mutex<State>

    /// A gate that opens after `expected` calls to `markReady()`.
    public init(expected: Int) {
        state = Mutex(State(waiting: max(0, expected)))
    }

    /// One service is ready.
    public func markReady() {
        let resumed: [CheckedContinuation<Bool, Never>] = state.withLock { state in
            guard state.waiting > 0 else { return [] }
            state.waiting -= 1
            guard state.waiting == 0 else { return [] }
            defer { state.continuations = [:] }
            return Array(state.continuations.values)
        }
        for continuation in resumed { continuation.resume(returning: true) }
    }

    public var isOpen: Bool { state.withLock { $0.waiting == 0 } }

    /// Returns true once every expected service is ready, or false when the waiting task is
    /// cancelled first (a service failed to start and the daemon is stopping).
    public func wait() async -> Bool {
        let waiter = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { state in
                    if state.waiting == 0 { return true }
                    if Task.isCancelled { return false }
                    state.continuations[waiter] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let cancelled = state.withLock { $0.continuations.removeValue(forKey: waiter) }
            cancelled?.resume(returning: false)
        }
    }
}
