import NIOPosix

/// Where an appended record landed.
public struct LogPosition: Sendable, Equatable {
    public var segment: Int
    public var offset: Int
}

/// Appends records to the queue log with group commit: every record waiting while a
/// write+fdatasync is in flight goes out in the next single write+fdatasync, and each
/// caller hears back only after the fdatasync that covers its record returned.
///
/// The writes run on a flusher thread of their own (one for the process), which calls each
/// record's completion itself right after the fdatasync: a receiver can answer its client
/// from there with no task or actor hop in between (the SMTP server's `250`).
///
/// Bookkeeping records (state, done) need not be durable at once (`appendLazily`): they go
/// out with the next write, and when a write holds nothing else it is not followed by an
/// fdatasync; the next durable record's fdatasync covers them. Losing one in a crash only
/// repeats a delivery attempt, which the transports' exactly-once check absorbs.
///
/// Segments are files `log/<16 hex digits>.seg`; a new segment is created with O_EXCL and
/// made durable by one directory fsync before anything in it is acknowledged. After that,
/// appends need only fdatasync (the size change is data-sync'd metadata).
final class QueueLogWriter: @unchecked Sendable {
    /// Called once per record on the flusher thread: its position once durable, or why not.
    typealias Completion = @Sendable (Result<LogPosition, QueueError>) -> Void

    let directory: String
    let segmentLimit: Int

    /// The thread every queue log's writes and fdatasyncs run on (never shut down).
    static let flusher: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    private struct Item {
        var bytes: [UInt8]
        var completion: Completion?
    }

    // Guarded by `lock`.
    private let lock = SubmissionLock()
    private var pending: [Item] = []
    /// A flush loop owns the flusher-only state below (it is running or about to).
    private var flushing = false
    /// Work that must run while no batch is being written (lazy sync, shutdown).
    private var jobs: [@Sendable () -> Void] = []
    private var publishedSegment: Int

    // Flusher-only: touched only by the loop that set `flushing` (hand-over through `lock`).
    private var current: Int
    private var descriptor: Int32 = -1
    private var offset = 0
    /// Lazily appended records were written to the current segment but not yet fdatasync'd.
    private var unsynced = false

    init(directory: String, firstSegment: Int, segmentLimit: Int = 64 << 20) {
        self.directory = directory
        self.current = firstSegment - 1
        self.publishedSegment = firstSegment - 1
        self.segmentLimit = segmentLimit
    }

    static func segmentName(_ number: Int) -> String {
        let hex = String(number, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".seg"
    }

    static func segmentNumber(_ name: String) -> Int? {
        guard name.hasSuffix(".seg"), name.count == 20 else { return nil }
        return Int(name.dropLast(4), radix: 16)
    }

    /// The segment being written (records appended from now on go to it or a later one).
    var segment: Int { lock.withLock { publishedSegment } }

    func path(of segment: Int) -> String { directory + "/" + Self.segmentName(segment) }

    /// Appends one record; `completion` runs on the flusher thread once it is durable (or failed).
    func append(_ bytes: [UInt8], completion: @escaping Completion) {
        enqueue(Item(bytes: bytes, completion: completion))
    }

    /// Appends one record; returns once it is durable.
    func append(_ bytes: [UInt8]) async throws -> LogPosition {
        try await withCheckedThrowingContinuation { continuation in
            append(bytes) { result in continuation.resume(with: result.mapError { $0 as any Error }) }
        }
    }

    /// Appends a record that need not be durable yet (state, done): returns at once; the
    /// record is written with the next batch and made durable by the next fdatasync.
    func appendLazily(_ bytes: [UInt8]) {
        enqueue(Item(bytes: bytes, completion: nil))
    }

    private func enqueue(_ item: Item) {
        let start = lock.withLock { () -> Bool in
            pending.append(item)
            if flushing { return false }
            flushing = true
            return true
        }
        if start { Self.flusher.submit { _ in self.flushLoop() } }
    }

    /// Runs `job` on the flusher thread while no batch is in flight.
    private func exclusive(_ job: @escaping @Sendable () -> Void) {
        let start = lock.withLock { () -> Bool in
            jobs.append(job)
            if flushing { return false }
            flushing = true
            return true
        }
        if start { Self.flusher.submit { _ in self.flushLoop() } }
    }

    private enum Work {
        case jobs([@Sendable () -> Void])
        case batch([Item])
    }

    /// Writes batches until nothing is pending (blocking: on the flusher thread only).
    private func flushLoop() {
        while true {
            let work = lock.withLock { () -> Work? in
                if !jobs.isEmpty {
                    defer { jobs = [] }
                    return .jobs(jobs)
                }
                if !pending.isEmpty {
                    defer { pending = [] }
                    return .batch(pending)
                }
                flushing = false
                return nil
            }
            switch work {
            case nil: return
            case .jobs(let list): for job in list { job() }
            case .batch(let batch): write(batch)
            }
        }
    }

    private func write(_ batch: [Item]) {
        let durable = batch.contains { $0.completion != nil }
        do throws(FileIO.Failure) {
            if descriptor < 0 || offset >= segmentLimit { try rotate() }
            var data: [UInt8] = []
            data.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count })
            var positions: [LogPosition] = []
            positions.reserveCapacity(batch.count)
            for item in batch {
                positions.append(LogPosition(segment: current, offset: offset + data.count))
                data.append(contentsOf: item.bytes)
            }
            let file = path(of: current)
            try FileIO.writeAll(descriptor, data, at: offset, path: file)
            if durable { try FileIO.dataSync(descriptor, path: file) }
            offset += data.count
            unsynced = !durable
            for (item, position) in zip(batch, positions) { item.completion?(.success(position)) }
        } catch {
            // The segment's tail is now unknown: later records go to a fresh segment.
            closeSegment()
            let failure = error.isNoSpace ? QueueError.insufficientStorage : QueueError.temporaryFailure(error.description)
            for item in batch { item.completion?(.failure(failure)) }
        }
    }

    private func closeSegment() {
        if descriptor >= 0 {
            FileIOClose.close(descriptor)
            descriptor = -1
        }
    }

    /// fdatasync of lazily appended records still only written (before a segment is left).
    private func syncLazyRecords() {
        guard unsynced, descriptor >= 0 else { return }
        unsynced = false
        try? FileIO.dataSync(descriptor, path: path(of: current))
    }

    private func rotate() throws(FileIO.Failure) {
        syncLazyRecords()
        closeSegment()
        // A segment that failed half-way is never reused: the next try takes a new number.
        current += 1
        let next = current
        lock.withLock { publishedSegment = next }
        let file = path(of: next)
        let fd = try FileIO.openForAppend(file, create: true)
        do throws(FileIO.Failure) {
            try FileIO.syncDirectory(directory)
        } catch {
            FileIOClose.close(fd)
            throw error
        }
        descriptor = fd
        offset = 0
    }

    /// Makes lazily appended records durable now (the scheduler calls this about once a
    /// second, so a crash of the machine loses at most that much bookkeeping).
    func syncLazily() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            exclusive {
                self.syncLazyRecords()
                continuation.resume()
            }
        }
    }

    /// Writes and syncs what is still pending, then closes the segment.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            exclusive {
                // Records appended before this call are written first: a batch runs before
                // a job queued behind it only if it was taken already, so drain here too.
                self.drainPending()
                self.syncLazyRecords()
                self.closeSegment()
                continuation.resume()
            }
        }
    }

    private func drainPending() {
        while true {
            let batch = lock.withLock { () -> [Item] in
                defer { pending = [] }
                return pending
            }
            if batch.isEmpty { return }
            write(batch)
        }
    }
}
