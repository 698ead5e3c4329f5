import NIOPosix

/// Where an appended record landed.
public struct LogPosition: Sendable, Equatable {
    public var segment: Int
    public var offset: Int
}

/// Appends records to the queue log with group commit: every record waiting while a
/// write+fdatasync is in flight goes out in the next single write+fdatasync, and each
/// caller resumes only after the fdatasync that covers its record returned.
///
/// Bookkeeping records (state, done) need not be durable at once (`appendLazily`): they go
/// out with the next write, and when a write holds nothing else it is not followed by an
/// fdatasync; the next durable record's fdatasync covers them. Losing one in a crash only
/// repeats a delivery attempt, which the transports' exactly-once check absorbs.
///
/// Segments are files `log/<16 hex digits>.seg`; a new segment is created with O_EXCL and
/// made durable by one directory fsync before anything in it is acknowledged. After that,
/// appends need only fdatasync (the size change is data-sync'd metadata).
actor QueueLogWriter {
    let directory: String
    let threadPool: NIOThreadPool
    let segmentLimit: Int

    private(set) var segment: Int
    private var descriptor: Int32 = -1
    private var offset = 0
    private var pending: [(bytes: [UInt8], continuation: CheckedContinuation<LogPosition, any Error>?)] = []
    private var flushing = false
    /// Lazily appended records were written to the current segment but not yet fdatasync'd.
    private var unsynced = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(directory: String, firstSegment: Int, threadPool: NIOThreadPool, segmentLimit: Int = 64 << 20) {
        self.directory = directory
        self.segment = firstSegment - 1
        self.threadPool = threadPool
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

    func path(of segment: Int) -> String { directory + "/" + Self.segmentName(segment) }

    /// Appends one record; returns once it is durable.
    func append(_ bytes: [UInt8]) async throws -> LogPosition {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((bytes, continuation))
            if !flushing {
                flushing = true
                Task { await self.flushLoop() }
            }
        }
    }

    /// Appends a record that need not be durable yet (state, done): returns at once; the
    /// record is written with the next batch and made durable by the next fdatasync.
    func appendLazily(_ bytes: [UInt8]) {
        pending.append((bytes, nil))
        if !flushing {
            flushing = true
            Task { await self.flushLoop() }
        }
    }

    private func flushLoop() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let durable = batch.contains { $0.continuation != nil }
            do {
                if descriptor < 0 || offset >= segmentLimit { try await rotate() }
                var data: [UInt8] = []
                data.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count })
                var positions: [LogPosition] = []
                for item in batch {
                    positions.append(LogPosition(segment: segment, offset: offset + data.count))
                    data.append(contentsOf: item.bytes)
                }
                let fd = descriptor, start = offset, file = path(of: segment), bytes = data
                try await threadPool.runIfActive {
                    try FileIO.writeAll(fd, bytes, at: start, path: file)
                    if durable { try FileIO.dataSync(fd, path: file) }
                }
                offset += data.count
                unsynced = !durable
                for (item, position) in zip(batch, positions) { item.continuation?.resume(returning: position) }
            } catch {
                // The segment's tail is now unknown: later records go to a fresh segment.
                closeSegment()
                let failure = (error as? FileIO.Failure).map { $0.isNoSpace ? QueueError.insufficientStorage
                    : QueueError.temporaryFailure($0.description) } ?? QueueError.temporaryFailure("\(error)")
                for item in batch { item.continuation?.resume(throwing: failure) }
            }
        }
        flushing = false
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func closeSegment() {
        if descriptor >= 0 {
            let fd = descriptor
            descriptor = -1
            _ = threadPool // closing is cheap; do it inline
            FileIOClose.close(fd)
        }
    }

    /// fdatasync of lazily appended records still only written (before a segment is left).
    private func syncLazyRecords() async {
        guard unsynced, descriptor >= 0 else { return }
        unsynced = false
        let fd = descriptor, file = path(of: segment)
        try? await threadPool.runIfActive { try FileIO.dataSync(fd, path: file) }
    }

    private func rotate() async throws {
        await syncLazyRecords()
        closeSegment()
        segment += 1
        let file = path(of: segment), directory = self.directory
        descriptor = try await threadPool.runIfActive {
            let fd = try FileIO.openForAppend(file, create: true)
            try FileIO.syncDirectory(directory)
            return fd
        }
        offset = 0
    }

    /// Makes lazily appended records durable now (the scheduler calls this about once a
    /// second, so a crash of the machine loses at most that much bookkeeping).
    func syncLazily() async {
        guard !flushing else { return }
        flushing = true
        await syncLazyRecords()
        flushing = false
        if !pending.isEmpty {
            flushing = true
            Task { await self.flushLoop() }
        } else {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Writes and syncs what is still pending, then closes the segment.
    func shutdown() async {
        if flushing {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        await syncLazyRecords()
        closeSegment()
    }
}
