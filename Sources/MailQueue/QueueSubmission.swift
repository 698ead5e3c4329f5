/// One message being received into a `DurableQueue`. The first MiB is gathered in memory and
/// written as one log record at commit; past that the bytes go to a spool file as they
/// arrive (`spool/.tmp-…`, written on the thread pool), which commit fsyncs and hands to the
/// queue (`acceptSpooled`), so a large message never sits whole in memory. Past `sizelimit`
/// everything is dropped and commit fails with `messageTooBig`.
final class QueueSubmission: MessageSubmission, @unchecked Sendable {
    // Receivers call write/commit/abort sequentially (the contract); the lock guards misuse.
    private let lock = SubmissionLock()
    private let queue: DurableQueue
    private let envelope: QueueEnvelope
    private let sizeLimit: Int
    private var body: [UInt8] = []
    private var length = 0
    private var spool: (fd: Int32, path: String)?
    private var finished = false
    private var tooBig = false

    /// Messages larger than this are spooled to a file of their own.
    static let spillThreshold = 1 << 20

    init(queue: DurableQueue, envelope: QueueEnvelope, sizeLimit: Int) {
        self.queue = queue
        self.envelope = envelope
        self.sizeLimit = sizeLimit
    }

    private enum WriteStep {
        case kept
        case spill([UInt8], at: Int)
        case discard((fd: Int32, path: String))
    }

    func writeInMemory(_ bytes: [UInt8]) -> Bool {
        lock.withLock {
            guard !finished, !tooBig, spool == nil, sizeLimit == 0 || length + bytes.count <= sizeLimit,
                  body.count + bytes.count <= Self.spillThreshold else { return false }
            length += bytes.count
            body.append(contentsOf: bytes)
            return true
        }
    }

    func write(_ bytes: [UInt8]) async throws {
        let step = try lock.withLock { () throws(QueueError) -> WriteStep in
            guard !finished else { throw QueueError.temporaryFailure("submission already finished") }
            if tooBig { return .kept }
            if sizeLimit > 0 && length + bytes.count > sizeLimit {
                tooBig = true
                body = []
                if let spool {
                    self.spool = nil
                    return .discard(spool)
                }
                return .kept
            }
            let offset = length
            length += bytes.count
            if spool == nil && body.count + bytes.count <= Self.spillThreshold {
                body.append(contentsOf: bytes)
                return .kept
            }
            if spool == nil {
                let first = body + bytes
                body = []
                return .spill(first, at: 0)
            }
            return .spill(bytes, at: offset)
        }
        switch step {
        case .kept:
            return
        case .discard(let file):
            Self.remove(file)
        case .spill(let bytes, let offset):
            try await spill(bytes, at: offset)
        }
    }

    private func spill(_ bytes: [UInt8], at offset: Int) async throws {
        var file = lock.withLock { spool }
        do {
            if file == nil {
                var generator = QueueIDGenerator()
                let path = QueueRecovery.spoolDirectory(queue.directory) + "/.tmp-" + generator.next(now: 0).rawValue
                let fd = try await queue.threadPool.runIfActive { try FileIO.openForAppend(path, create: true) }
                file = (fd, path)
                lock.withLock { spool = file }
            }
            guard let file else { return }
            try await queue.threadPool.runIfActive { try FileIO.writeAll(file.fd, bytes, at: offset, path: file.path) }
        } catch let error as FileIO.Failure {
            throw error.isNoSpace ? QueueError.insufficientStorage : QueueError.temporaryFailure(error.description)
        }
    }

    func commit() async throws -> QueueID {
        let (bytes, file, size) = try lock.withLock { () throws(QueueError) -> ([UInt8], (fd: Int32, path: String)?, Int) in
            guard !finished else { throw QueueError.temporaryFailure("submission already finished") }
            finished = true
            if tooBig { throw QueueError.messageTooBig(limit: sizeLimit) }
            defer {
                body = []
                spool = nil
            }
            return (body, spool, length)
        }
        guard let file else {
            return try await queue.accept(envelope: envelope, body: bytes)
        }
        do {
            try await queue.threadPool.runIfActive {
                defer { FileIOClose.close(file.fd) }
                try FileIO.fullSync(file.fd, path: file.path)
            }
        } catch {
            Self.remove((-1, file.path))
            if let failure = error as? FileIO.Failure {
                throw failure.isNoSpace ? QueueError.insufficientStorage : QueueError.temporaryFailure(failure.description)
            }
            throw error
        }
        return try await queue.acceptSpooled(envelope: envelope, temporary: file.path, length: size)
    }

    func commit(completion: @escaping @Sendable (Result<QueueID, QueueError>) -> Void) -> Bool {
        let bytes = lock.withLock { () -> [UInt8]? in
            // Only an ordinary in-memory message; the rest takes `commit()`.
            guard !finished, !tooBig, spool == nil else { return nil }
            finished = true
            defer { body = [] }
            return body
        }
        guard let bytes else { return false }
        queue.accept(envelope: envelope, body: bytes, completion: completion)
        return true
    }

    func abort() async {
        let file = lock.withLock { () -> (fd: Int32, path: String)? in
            finished = true
            body = []
            defer { spool = nil }
            return spool
        }
        if let file { Self.remove(file) }
    }

    private static func remove(_ file: (fd: Int32, path: String)) {
        // Closing and unlinking a spool file are quick: done inline.
        if file.fd >= 0 { FileIOClose.close(file.fd) }
        FileIO.remove(file.path)
    }
}
