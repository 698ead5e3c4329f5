import Synchronization

/// Courier's dispatch limits for the esmtp module (spec/mta.md §4.6, §5.1): at most `MAXDELS`
/// deliveries at once, at most `MAXHOST` of them to the same host (the recipient domain).
/// A delivery waits here, without holding a thread, until both allow it; waiters are served
/// in arrival order among those whose host has room.
final class DeliverySlots: Sendable {
    struct Waiter {
        var id: Int
        var host: String
        var continuation: CheckedContinuation<Bool, Never>
    }

    struct State {
        var total = 0
        var perHost: [String: Int] = [:]
        var waiters: [Waiter] = []
        var nextID = 0
        /// Waiters cancelled before they were queued (the cancellation handler ran first).
        var cancelled: Set<Int> = []
    }

    let maxTotal: Int
    let maxPerHost: Int
    private let state = Mutex(State())

    init(maxTotal: Int, maxPerHost: Int) {
        self.maxTotal = max(1, maxTotal)
        self.maxPerHost = max(1, maxPerHost)
    }

    /// Waits for a slot for `host`; false when the task was cancelled first (no slot taken).
    func acquire(_ host: String) async -> Bool {
        let id: Int? = state.withLock { state in
            if state.waiters.isEmpty, canStart(host, state) {
                take(host, &state)
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return false }
                    state.waiters.append(Waiter(id: id, host: host, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
                // A slot may have been freed between the first look and the queueing.
                release(nil)
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index)
                }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// Gives back the slot taken for `host` (nil: only wake waiters that fit now).
    func release(_ host: String?) {
        let ready: [Waiter] = state.withLock { state in
            if let host {
                state.total -= 1
                let left = (state.perHost[host] ?? 1) - 1
                state.perHost[host] = left > 0 ? left : nil
            }
            var ready: [Waiter] = []
            var index = 0
            while index < state.waiters.count, state.total < maxTotal {
                let waiter = state.waiters[index]
                if canStart(waiter.host, state) {
                    take(waiter.host, &state)
                    ready.append(state.waiters.remove(at: index))
                } else {
                    index += 1
                }
            }
            return ready
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    /// Deliveries running now (tests).
    var active: (total: Int, hosts: [String: Int]) { state.withLock { ($0.total, $0.perHost) } }

    private func canStart(_ host: String, _ state: State) -> Bool {
        state.total < maxTotal && (state.perHost[host] ?? 0) < maxPerHost
    }

    private func take(_ host: String, _ state: inout State) {
        state.total += 1
        state.perHost[host, default: 0] += 1
    }
}
