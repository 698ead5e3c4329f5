/// The one durable queue of a running daemon, handed to every receiver (the SMTP listeners)
/// before the queue runner has opened it. Receivers call `submit`, which waits until the
/// runner publishes the open queue; if the queue is closed or could not be opened, the
/// submission fails with a temporary error (the client retries, nothing is lost).
public actor SharedQueue: MessageQueue {
    private var queue: DurableQueue?
    /// `queue` for `submitNow` (read from event loops without an actor hop).
    private nonisolated let published = PublishedQueue()
    private var closed = false
    private var waiters: [CheckedContinuation<DurableQueue?, Never>] = []

    public init() {}

    /// The runner publishes the queue once it is open (and `nil` when it closes it).
    public func publish(_ queue: DurableQueue?) {
        self.queue = queue
        published.set(queue)
        if queue == nil { closed = true }
        let pending = waiters
        waiters.removeAll()
        for waiter in pending { waiter.resume(returning: queue) }
    }

    private func openQueue() async -> DurableQueue? {
        if let queue { return queue }
        if closed { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    public func submit(_ envelope: QueueEnvelope) async throws -> any MessageSubmission {
        guard let queue = await openQueue() else {
            throw QueueError.temporaryFailure("the mail queue is not open")
        }
        return try await queue.submit(envelope)
    }

    public nonisolated func submitNow(_ envelope: QueueEnvelope) -> (any MessageSubmission)? {
        published.get()?.submitNow(envelope)
    }
}

/// The open queue behind a lock.
final class PublishedQueue: @unchecked Sendable {
    private let lock = SubmissionLock()
    private var queue: DurableQueue?

    func set(_ queue: DurableQueue?) { lock.withLock { self.queue = queue } }
    func get() -> DurableQueue? { lock.withLock { queue } }
}
