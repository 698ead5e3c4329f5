/// One message being received into a `DurableQueue`: bytes are gathered in memory (bounded
/// by `sizelimit`) and written as one log record at commit.
final class QueueSubmission: MessageSubmission, @unchecked Sendable {
    // Receivers call write/commit/abort sequentially (the contract); the lock guards misuse.
    private let lock = SubmissionLock()
    private let queue: DurableQueue
    private let envelope: QueueEnvelope
    private let sizeLimit: Int
    private var body: [UInt8] = []
    private var finished = false
    private var tooBig = false

    init(queue: DurableQueue, envelope: QueueEnvelope, sizeLimit: Int) {
        self.queue = queue
        self.envelope = envelope
        self.sizeLimit = sizeLimit
    }

    func write(_ bytes: [UInt8]) async throws {
        try lock.withLock { () throws(QueueError) in
            guard !finished else { throw QueueError.temporaryFailure("submission already finished") }
            if tooBig { return }
            if sizeLimit > 0 && body.count + bytes.count > sizeLimit {
                tooBig = true
                body = []
                return
            }
            body.append(contentsOf: bytes)
        }
    }

    func commit() async throws -> QueueID {
        let bytes = try lock.withLock { () throws(QueueError) -> [UInt8] in
            guard !finished else { throw QueueError.temporaryFailure("submission already finished") }
            finished = true
            if tooBig { throw QueueError.messageTooBig(limit: sizeLimit) }
            defer { body = [] }
            return body
        }
        return try await queue.accept(envelope: envelope, body: bytes)
    }

    func abort() async {
        lock.withLock { () -> Void in
            finished = true
            body = []
        }
    }
}
