#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOPosix

/// The durable queue under `DIR/var/queue` (Docs/queue-format.md): a log of segments
/// written with group commit, an in-memory index of live messages rebuilt at start-up.
/// One process at a time owns the log (`lock` file); `sendmail` drops messages into
/// `incoming/` when it cannot (or need not) reach the owner, and the owner imports them.
public actor DurableQueue: MessageQueue {
    public nonisolated let directory: String
    public nonisolated let settings: QueueSettings
    nonisolated let threadPool: NIOThreadPool
    nonisolated let logger: Logger
    nonisolated let writer: QueueLogWriter
    /// Messages made durable by the flusher thread, not yet in `live` (`admitArrivals`).
    nonisolated let arrivals = QueueArrivals()
    nonisolated let ids = QueueIDSource()
    private let lockDescriptor: Int32

    private var live: [QueueID: LiveMessage] = [:]
    private var order: [QueueID] = []
    private var inFlight: Set<QueueID> = []
    /// Messages due now, in acceptance order (from `readyHead` on): claiming is O(claimed),
    /// not a pass over every live message. Entries are checked again when claimed.
    private var ready: [QueueID] = []
    private var readyHead = 0
    /// Messages waiting for a later attempt (deferred, recovered at start): next attempt time.
    private var waiting: [QueueID: Int64] = [:]
    /// No entry of `waiting` is due before this (a lower bound; nil when `waiting` is empty).
    private var earliestWaiting: Int64?
    /// Imported drops not yet removed from `incoming/`: not deliverable yet.
    private var held: Set<QueueID> = []
    /// Cancelled messages (`cancelmsg`): reason and the control file to remove once finished.
    private var cancellations: [QueueID: (reason: String, file: String)] = [:]
    /// Control files already acted on (cancels wait for their message to finish).
    var controlFilesSeen: Set<String> = []
    private var importing: Set<String> = []
    private var liveBySegment: [Int: Int] = [:]
    private var segments: [Int]
    /// Bytes of bodies kept in memory for their first delivery attempt (`LiveMessage.heldBody`).
    private var heldBytes = 0
    static let heldBodyBudget = 32 << 20

    /// Opens (creating if needed) the queue, takes its owner lock, and replays the log.
    public static func open(directory: String, settings: QueueSettings = QueueSettings(),
                            threadPool: NIOThreadPool = .singleton, logger: Logger) async throws -> DurableQueue {
        let (recovered, lock) = try await threadPool.runIfActive { () throws -> (RecoveredQueue, Int32) in
            try FileIO.makeDirectories(QueueRecovery.logDirectory(directory))
            try FileIO.makeDirectories(QueueRecovery.incomingDirectory(directory))
            try FileIO.makeDirectories(QueueRecovery.spoolDirectory(directory))
            let lock = try QueueLock.acquire(directory + "/lock", wait: true)
            let recovered = QueueRecovery.scan(directory)
            // Spool files no live message names were never acknowledged (a crash before their
            // record) or belong to finished messages (a crash before their removal).
            let spool = QueueRecovery.spoolDirectory(directory)
            let named = Set(recovered.messages.map(\.bodyPath))
            for name in FileIO.list(spool) where !named.contains(spool + "/" + name) {
                FileIO.remove(spool + "/" + name)
            }
            return (recovered, lock)
        }
        let queue = DurableQueue(directory: directory, settings: settings, threadPool: threadPool, logger: logger,
                                 recovered: recovered, lock: lock)
        let pendingDrops = Set(recovered.messages.filter { $0.segment == nil }.map(\.header.id))
        try await queue.importIncoming(recovered.incoming.map(\.path), only: pendingDrops)
        return queue
    }

    private init(directory: String, settings: QueueSettings, threadPool: NIOThreadPool, logger: Logger,
                 recovered: RecoveredQueue, lock: Int32) {
        self.directory = directory
        self.settings = settings
        self.threadPool = threadPool
        self.logger = logger
        self.lockDescriptor = lock
        self.segments = recovered.segments
        self.writer = QueueLogWriter(directory: QueueRecovery.logDirectory(directory),
                                     firstSegment: (recovered.segments.last ?? 0) + 1)
        for message in recovered.messages where message.segment != nil {
            live[message.header.id] = message
            order.append(message.header.id)
            if let segment = message.segment { liveBySegment[segment, default: 0] += 1 }
            waiting[message.header.id] = message.state.nextAttempt
            earliestWaiting = min(earliestWaiting ?? message.state.nextAttempt, message.state.nextAttempt)
        }
    }

    /// Closes the log and releases the owner lock.
    public func close() async {
        await writer.shutdown()
        FileIOClose.close(lockDescriptor)
    }

    // MARK: receiving

    public nonisolated func submit(_ envelope: QueueEnvelope) async throws -> any MessageSubmission {
        QueueSubmission(queue: self, envelope: envelope, sizeLimit: settings.sizeLimit)
    }

    public nonisolated func submitNow(_ envelope: QueueEnvelope) -> (any MessageSubmission)? {
        QueueSubmission(queue: self, envelope: envelope, sizeLimit: settings.sizeLimit)
    }

    /// Makes one message durable; returns its id once the fdatasync covering it returned.
    nonisolated func accept(envelope: QueueEnvelope, body: [UInt8]) async throws -> QueueID {
        try await withCheckedThrowingContinuation { continuation in
            accept(envelope: envelope, body: body) { continuation.resume(with: $0.mapError { $0 as any Error }) }
        }
    }

    /// Makes one message durable with no task hop: `completion` runs on the log's flusher
    /// thread right after the fdatasync covering the message (or with the failure). The
    /// message is in the index (`arrivals`) and the scheduler woken before it runs.
    nonisolated func accept(envelope: QueueEnvelope, body: [UInt8],
                            completion: @escaping @Sendable (Result<QueueID, QueueError>) -> Void) {
        let now = Int64(time(nil))
        let header = QueuedMessageHeader(id: ids.next(now: now), submitted: now,
                                         expires: now + Int64(settings.queueTime), envelope: envelope)
        let record = QueueRecord.message(header, body: body).encoded()
        let recordLength = record.count
        writer.append(record) { [arrivals, writer, logger] result in
            switch result {
            case .success(let position):
                let state = QueueState(passes: 0, nextAttempt: header.submitted,
                                       recipients: Array(repeating: .pending, count: envelope.recipients.count))
                var message = LiveMessage(header: header, state: state, bodyPath: writer.path(of: position.segment),
                                          bodyOffset: position.offset + recordLength - body.count,
                                          bodyLength: body.count, segment: position.segment, recovered: false)
                message.heldBody = body
                arrivals.push(QueueArrivals.Arrival(message: message, due: true))
                // The receiver hears first (its client waits for the 250), the log line after.
                completion(.success(header.id))
                arrivals.wake()
                logger.info("id=\(header.id),from=<\(envelope.sender)>,size=\(body.count),rcpts=\(envelope.recipients.count): accepted")
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    /// Takes the messages the flusher made durable into the index, in the order they became
    /// durable. Every method that reads the index calls this first.
    private func admitArrivals() {
        for arrival in arrivals.take() {
            var message = arrival.message
            let id = message.header.id
            if let body = message.heldBody {
                if heldBytes + body.count <= Self.heldBodyBudget {
                    heldBytes += body.count
                } else {
                    message.heldBody = nil
                }
            }
            live[id] = message
            order.append(id)
            if arrival.due { ready.append(id) }
            if let segment = message.segment {
                liveBySegment[segment, default: 0] += 1
                if segments.last != segment { segments.append(segment) }
            }
        }
    }

    /// Queues a delayed-mail warning about `id`: first `warnedState` (its state with `warned`
    /// set) goes into the log, then the warning's message record, whose fdatasync covers both.
    /// A crash in between loses the warning; it can never make a second one.
    func acceptWarning(about id: QueueID, warnedState: QueueState, envelope: QueueEnvelope,
                       body: [UInt8]) async throws -> QueueID {
        writer.appendLazily(QueueRecord.state(id, warnedState).encoded())
        return try await accept(envelope: envelope, body: body)
    }

    /// Makes one large message durable from its spool file `temporary` (written and fsynced by
    /// the submission): the file is renamed to `spool/<id>`, the directory fsynced, then the
    /// `spooled` record appended with group commit.
    func acceptSpooled(envelope: QueueEnvelope, temporary: String, length: Int) async throws -> QueueID {
        let now = Int64(time(nil))
        let header = QueuedMessageHeader(id: ids.next(now: now), submitted: now,
                                         expires: now + Int64(settings.queueTime), envelope: envelope)
        let spool = QueueRecovery.spoolDirectory(directory)
        let final = spool + "/" + header.id.rawValue
        do {
            try await threadPool.runIfActive {
                try FileIO.rename(temporary, final)
                try FileIO.syncDirectory(spool)
            }
            let record = QueueRecord.spooled(header, file: header.id.rawValue, length: length).encoded()
            let position = try await writer.append(record)
            let state = QueueState(passes: 0, nextAttempt: header.submitted,
                                   recipients: Array(repeating: .pending, count: header.envelope.recipients.count))
            arrivals.push(QueueArrivals.Arrival(
                message: LiveMessage(header: header, state: state, bodyPath: final, bodyOffset: 0,
                                     bodyLength: length, segment: position.segment, recovered: false),
                due: true))
            admitArrivals()
            arrivals.wake()
        } catch let error as FileIO.Failure {
            try? await threadPool.runIfActive { FileIO.remove(final) }
            throw error.isNoSpace ? QueueError.insufficientStorage : QueueError.temporaryFailure(error.description)
        } catch {
            try? await threadPool.runIfActive { FileIO.remove(final) }
            throw error
        }
        logger.info("id=\(header.id),from=<\(envelope.sender)>,size=\(length),rcpts=\(envelope.recipients.count): accepted")
        return header.id
    }

    /// `due`: deliverable at once (else the caller releases it later, as `importIncoming` does).
    private func store(header: QueuedMessageHeader, body: [UInt8], recovered: Bool, due: Bool) async throws {
        let record = QueueRecord.message(header, body: body).encoded()
        let position = try await writer.append(record)
        let bodyOffset = position.offset + record.count - body.count
        let state = QueueState(passes: 0, nextAttempt: header.submitted,
                               recipients: Array(repeating: .pending, count: header.envelope.recipients.count))
        arrivals.push(QueueArrivals.Arrival(
            message: LiveMessage(header: header, state: state, bodyPath: writer.path(of: position.segment),
                                 bodyOffset: bodyOffset, bodyLength: body.count, segment: position.segment,
                                 recovered: recovered),
            due: due))
        admitArrivals()
        arrivals.wake()
    }

    /// Moves `sendmail` drop files into the log: append, then remove the file and fsync
    /// `incoming/` before any of those messages can be delivered.
    /// `only`: at start-up, the drop ids recovery found undelivered (others are done already).
    func importIncoming(_ paths: [String], only: Set<QueueID>?) async throws {
        let files = paths.filter { !importing.contains($0) }
        guard !files.isEmpty else { return }
        importing.formUnion(files)
        defer { importing.subtract(files) }
        var imported: [String] = []
        var stored: [QueueID] = []
        defer {
            held.subtract(stored)
            ready.append(contentsOf: stored)
            if !stored.isEmpty { arrivals.wake() }
        }
        for path in files {
            guard let bytes = try? await threadPool.runIfActive({ try FileIO.readAll(path) }) else { continue }
            for scanned in QueueLogParser.parse(bytes).records {
                admitArrivals()
                guard case let .message(header) = scanned.record, let range = scanned.bodyRange,
                      live[header.id] == nil, only?.contains(header.id) ?? true else { continue }
                held.insert(header.id)
                try await store(header: header, body: Array(bytes[range]), recovered: true, due: false)
                stored.append(header.id)
                logger.info("id=\(header.id),from=<\(header.envelope.sender)>,size=\(range.count),rcpts=\(header.envelope.recipients.count): accepted (sendmail)")
            }
            imported.append(path)
        }
        let incoming = QueueRecovery.incomingDirectory(directory)
        let done = imported
        try await threadPool.runIfActive {
            for path in done { FileIO.remove(path) }
            try FileIO.syncDirectory(incoming)
        }
    }

    /// Looks for new drop files (the scheduler calls this now and then).
    public func scanIncoming() async throws {
        let incoming = QueueRecovery.incomingDirectory(directory)
        let files = try await threadPool.runIfActive { () -> [String] in
            FileIO.list(incoming).filter { !$0.hasPrefix(".") }.map { incoming + "/" + $0 }
        }
        try await importIncoming(files, only: nil)
    }

    // MARK: scheduling

    func setWakeHandler(_ handler: @escaping @Sendable () -> Void) {
        arrivals.setWakeHandler(handler)
    }

    /// Messages whose next attempt is due and that are not being delivered; marks them in flight.
    func claimDue(now: Int64, limit: Int) -> [LiveMessage] {
        admitArrivals()
        if let earliest = earliestWaiting, earliest <= now { releaseWaiting(now: now) }
        var claimed: [LiveMessage] = []
        while claimed.count < limit && readyHead < ready.count {
            let id = ready[readyHead]
            readyHead += 1
            guard let message = live[id], !inFlight.contains(id), !held.contains(id) else { continue }
            if message.state.nextAttempt > now {
                wait(id, until: message.state.nextAttempt)
                continue
            }
            inFlight.insert(id)
            var attempt = message
            attempt.cancelReason = cancellations[id]?.reason
            claimed.append(attempt)
            if let body = message.heldBody {
                // The attempt carries the body; a retry reads it back from the log.
                heldBytes -= body.count
                live[id]?.heldBody = nil
            }
        }
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        } else if readyHead > 1024 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return claimed
    }

    /// Puts a message aside until `time` (it is not in flight and not in `ready`).
    private func wait(_ id: QueueID, until time: Int64) {
        waiting[id] = time
        earliestWaiting = min(earliestWaiting ?? time, time)
    }

    /// Moves the waiting messages that are due by `now` to `ready`, in acceptance order.
    private func releaseWaiting(now: Int64) {
        var due: [QueueID] = []
        var earliest: Int64?
        for (id, time) in waiting {
            let next = live[id]?.state.nextAttempt ?? time
            if next <= now { due.append(id) } else { earliest = min(earliest ?? next, next) }
        }
        for id in due { waiting[id] = nil }
        earliestWaiting = earliest
        guard !due.isEmpty else { return }
        if due.count > 1 {
            let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            due.sort { (rank[$0] ?? 0) < (rank[$1] ?? 0) }
        }
        ready.append(contentsOf: due)
    }

    /// Makes a waiting message due now (flush, cancel).
    private func makeDue(_ id: QueueID) {
        if waiting.removeValue(forKey: id) != nil { ready.append(id) }
    }

    nonisolated func body(of message: LiveMessage) async throws -> [UInt8] {
        if let body = message.heldBody { return body }
        return try await threadPool.runIfActive {
            try FileIO.read(message.bodyPath, offset: message.bodyOffset, count: message.bodyLength)
        }
    }

    /// Records the outcome of a pass: a new state (deferred) or done.
    func finish(_ id: QueueID, state: QueueState) async throws {
        defer { inFlight.remove(id) }
        admitArrivals()
        guard var message = live[id] else { return }
        if state.recipients.allSatisfy({ $0 != .pending }) {
            // Not waited for: a done record lost in a crash only repeats the delivery attempt,
            // which the transports' exactly-once check absorbs (Docs/queue-format.md).
            writer.appendLazily(QueueRecord.done(id).encoded())
            if let cancelled = cancellations.removeValue(forKey: id) {
                controlFilesSeen.remove(cancelled.file)
                let file = cancelled.file
                try? await threadPool.runIfActive { FileIO.remove(file) }
            }
            live[id] = nil
            // `order` keeps finished ids until they are many (no O(n) removal per message).
            if order.count > 64 && order.count > 2 * live.count { order.removeAll { live[$0] == nil } }
            if let segment = message.segment { liveBySegment[segment, default: 1] -= 1 }
            let spool = QueueRecovery.spoolDirectory(directory)
            if message.bodyPath.hasPrefix(spool + "/") {
                let file = message.bodyPath
                try? await threadPool.runIfActive { FileIO.remove(file) }
            }
            try await collectSegments()
        } else {
            writer.appendLazily(QueueRecord.state(id, state).encoded())
            message.state = state
            message.recovered = false
            live[id] = message
            wait(id, until: state.nextAttempt)
        }
    }

    /// Deletes the oldest segments while nothing live is in them (never the one being written).
    private func collectSegments() async throws {
        let current = writer.segment
        // After reading `current`: every record of an older segment has arrived by now.
        admitArrivals()
        var removed: [String] = []
        while let oldest = segments.first, oldest != current, liveBySegment[oldest, default: 0] == 0 {
            segments.removeFirst()
            liveBySegment[oldest] = nil
            removed.append(writer.path(of: oldest))
        }
        guard !removed.isEmpty else { return }
        let logDirectory = QueueRecovery.logDirectory(directory)
        let paths = removed
        try await threadPool.runIfActive {
            for path in paths { FileIO.remove(path) }
            try FileIO.syncDirectory(logDirectory)
        }
    }

    /// Makes the bookkeeping records written since the last fdatasync durable (the scheduler
    /// calls this about once a second).
    func syncBookkeeping() async {
        await writer.syncLazily()
    }

    /// Every live message, in acceptance order (for `mailq` and tests).
    public func messages() -> [LiveMessage] {
        admitArrivals()
        return order.compactMap { live[$0] }
    }

    /// Marks every message due now (`courier flush`).
    public func flush() {
        admitArrivals()
        for id in order { live[id]?.state.nextAttempt = 0 }
        for id in order where waiting[id] != nil { makeDue(id) }
        arrivals.wake()
    }

    /// Marks one message due now (`courier flush ID`); false when it is not queued.
    @discardableResult
    public func flush(_ id: QueueID) -> Bool {
        admitArrivals()
        guard live[id] != nil else { return false }
        live[id]?.state.nextAttempt = 0
        makeDue(id)
        arrivals.wake()
        return true
    }

    /// Cancels a queued message: its next pass fails the pending recipients with `reason`.
    /// False when it is not queued (already delivered, bounced or unknown).
    func cancel(_ id: QueueID, reason: String, file: String) -> Bool {
        admitArrivals()
        guard live[id] != nil else { return false }
        cancellations[id] = (reason, file)
        live[id]?.state.nextAttempt = 0
        makeDue(id)
        arrivals.wake()
        return true
    }
}

/// Queue ids: `<16 hex seconds>.<8 hex pid>.<8 hex counter>` (spec/mta.md §4.2 style).
struct QueueIDGenerator {
    private var counter = UInt32(truncatingIfNeeded: random())

    mutating func next(now: Int64) -> QueueID {
        counter &+= 1
        return QueueID(Self.hex(UInt64(bitPattern: now), 16) + "." + Self.hex(UInt64(getpid()), 8) + "." +
                       Self.hex(UInt64(counter), 8))
    }

    static func hex(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
