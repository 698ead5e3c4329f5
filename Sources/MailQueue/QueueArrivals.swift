/// Messages made durable on the log's flusher thread, waiting for the `DurableQueue` actor to
/// take them into its index (`admitArrivals`). Lets the flusher answer the receiver right
/// after the fdatasync without a hop through the actor; every actor method that reads the
/// index takes the arrivals in first, so nothing durable is ever missed (nor its segment
/// collected: arrivals are published before the writer moves on to a new segment).
final class QueueArrivals: @unchecked Sendable {
    struct Arrival {
        var message: LiveMessage
        /// Deliverable at once (else the caller releases it later, as imported drops are).
        var due: Bool
    }

    // Guarded by `lock`.
    private let lock = SubmissionLock()
    private var waiting: [Arrival] = []
    private var wakeHandler: (@Sendable () -> Void)?

    func push(_ arrival: Arrival) {
        lock.withLock { waiting.append(arrival) }
    }

    /// Everything that arrived since the last call, in the order it became durable.
    func take() -> [Arrival] {
        lock.withLock {
            defer { waiting = [] }
            return waiting
        }
    }

    func setWakeHandler(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock { wakeHandler = handler }
    }

    /// Tells the scheduler there is work (from any thread).
    func wake() {
        let handler = lock.withLock { wakeHandler }
        handler?()
    }
}

/// `QueueIDGenerator` behind a lock, for ids made outside the queue actor.
final class QueueIDSource: @unchecked Sendable {
    private let lock = SubmissionLock()
    private var generator = QueueIDGenerator()

    func next(now: Int64) -> QueueID {
        lock.withLock { generator.next(now: now) }
    }
}
