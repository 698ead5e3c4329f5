import Synchronization

/// At most `limit` authdaemon requests worked on at once (authdaemonrc `daemons`); the others
/// wait, first come first served. Courier gets the same effect from its fixed number of
/// authdaemond processes.
public final class AuthWorkerPool: Sendable {
    private struct State {
        var busy = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    public let limit: Int
    private let state = Mutex(State())

    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `work` once a worker is free.
    public func run<Result: Sendable>(_ work: @Sendable () async -> Result) async -> Result {
        await acquire()
        let result = await work()
        release()
        return result
    }

    /// Takes a worker when one is free now, without waiting; the caller must `release()` it.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.busy < limit else { return false }
            state.busy += 1
            return true
        }
    }

    /// Requests being worked on now.
    public var busy: Int {
        state.withLock { $0.busy }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.busy < limit {
                    state.busy += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.busy -= 1
                return nil
            }
            // The worker passes straight to the next request: `busy` stays the same.
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
