/// A message that is still in the queue, as the log says.
public struct LiveMessage: Sendable {
    public var header: QueuedMessageHeader
    public var state: QueueState
    /// The file holding the body, and where in it.
    public var bodyPath: String
    public var bodyOffset: Int
    public var bodyLength: Int
    /// The segment number the message record is in (nil for an incoming drop file).
    public var segment: Int?
    /// Set for messages read back at start-up: a delivery may already have happened
    /// before the crash, so the transport should look for it (exactly-once).
    public var recovered: Bool
    /// The body, kept in memory from acceptance until the first delivery attempt takes it
    /// (within `DurableQueue.heldBodyBudget`), so that attempt reads nothing back from disk.
    var heldBody: [UInt8]? = nil
    /// Set on a claimed message that `cancelmsg` cancelled: the reason its pending recipients fail with.
    var cancelReason: String? = nil
}

/// The queue as found on disk: live messages in acceptance order, and segment numbers.
public struct RecoveredQueue: Sendable {
    public var messages: [LiveMessage] = []
    public var segments: [Int] = []
    /// Incoming drop files (sendmail) with the ids they hold.
    public var incoming: [(path: String, ids: [QueueID])] = []
}

/// Reads the queue directory back after a start or a crash (Docs/queue-format.md).
public enum QueueRecovery {
    public static func logDirectory(_ queue: String) -> String { queue + "/log" }
    public static func incomingDirectory(_ queue: String) -> String { queue + "/incoming" }
    /// Bodies of large messages, one file each (`QueueRecord.spooled`).
    public static func spoolDirectory(_ queue: String) -> String { queue + "/spool" }

    /// Replays every segment in order, then the incoming drop files. Torn tails are ignored
    /// (they were never acknowledged); a message appears once however often it was logged.
    public static func scan(_ queue: String) -> RecoveredQueue {
        var result = RecoveredQueue()
        var index: [QueueID: Int] = [:]
        var finished: Set<QueueID> = []
        let logDirectory = logDirectory(queue)
        for name in FileIO.list(logDirectory) {
            guard let number = QueueLogWriter.segmentNumber(name) else { continue }
            result.segments.append(number)
            let path = logDirectory + "/" + name
            guard let bytes = try? FileIO.readAll(path) else { continue }
            apply(QueueLogParser.parse(bytes).records, path: path, segment: number, spool: spoolDirectory(queue),
                  into: &result, index: &index, finished: &finished)
        }
        let incoming = incomingDirectory(queue)
        for name in FileIO.list(incoming) where !name.hasPrefix(".") {
            let path = incoming + "/" + name
            guard let bytes = try? FileIO.readAll(path) else { continue }
            let records = QueueLogParser.parse(bytes).records
            let ids = records.compactMap { record -> QueueID? in
                if case let .message(header) = record.record { return header.id }
                return nil
            }
            result.incoming.append((path, ids))
            apply(records, path: path, segment: nil, spool: spoolDirectory(queue), into: &result, index: &index,
                  finished: &finished)
        }
        result.messages = result.messages.filter { !finished.contains($0.header.id) }
        return result
    }

    static func apply(_ records: [ScannedRecord], path: String, segment: Int?, spool: String,
                      into result: inout RecoveredQueue, index: inout [QueueID: Int], finished: inout Set<QueueID>) {
        for scanned in records {
            switch scanned.record {
            case let .message(header):
                guard index[header.id] == nil, !finished.contains(header.id), let body = scanned.bodyRange else { continue }
                let state = QueueState(passes: 0, nextAttempt: header.submitted,
                                       recipients: Array(repeating: .pending, count: header.envelope.recipients.count))
                index[header.id] = result.messages.count
                result.messages.append(LiveMessage(header: header, state: state, bodyPath: path,
                                                   bodyOffset: body.lowerBound, bodyLength: body.count,
                                                   segment: segment, recovered: true))
            case let .spooled(header, file, length):
                guard index[header.id] == nil, !finished.contains(header.id) else { continue }
                let state = QueueState(passes: 0, nextAttempt: header.submitted,
                                       recipients: Array(repeating: .pending, count: header.envelope.recipients.count))
                index[header.id] = result.messages.count
                result.messages.append(LiveMessage(header: header, state: state, bodyPath: spool + "/" + file,
                                                   bodyOffset: 0, bodyLength: length, segment: segment, recovered: true))
            case let .state(id, state):
                if let position = index[id], state.recipients.count == result.messages[position].state.recipients.count {
                    result.messages[position].state = state
                }
            case let .done(id):
                finished.insert(id)
            }
        }
    }
}
