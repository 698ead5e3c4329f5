#if canImport(Glibc)
import Glibc
#endif

/// Commands the queue tools leave for the queue's owner, as Courier's `courier flush` and
/// `cancelmsg` write to courierd's trigger FIFO (spec/mta.md §4.6): one small file each under
/// `var/queue/control/`, written durably (temporary name, fsync, rename, directory fsync), so a
/// command given while the daemon is down is carried out when it starts. The daemon looks for
/// them with the `sendmail` drops, once a second.
public enum QueueControlCommand: Sendable, Equatable {
    /// `courier flush`: every message is due now.
    case flushAll
    /// `courier flush ID`: this message is due now.
    case flush(QueueID)
    /// `cancelmsg ID [reason]`: the message's pending recipients fail with `reason`, and the
    /// usual report goes to the sender (subject to NOTIFY).
    case cancel(QueueID, reason: String)

    /// Courier's default reason (commsgcancel.c).
    public static let defaultCancelReason = "Message cancelled."

    /// One line: `FLUSH`, `FLUSH ID`, `CANCEL ID<TAB>reason`.
    public var encoded: [UInt8] {
        switch self {
        case .flushAll: Array("FLUSH\n".utf8)
        case .flush(let id): Array("FLUSH \(id.rawValue)\n".utf8)
        case .cancel(let id, let reason): Array("CANCEL \(id.rawValue)\t\(Self.oneLine(reason))\n".utf8)
        }
    }

    /// Parses a control file; nil for anything else (such files are dropped).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count <= 4096, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
        if line == "FLUSH" {
            self = .flushAll
        } else if line.hasPrefix("FLUSH "), !line.dropFirst(6).isEmpty {
            self = .flush(QueueID(String(line.dropFirst(6))))
        } else if line.hasPrefix("CANCEL ") {
            let rest = line.dropFirst(7)
            let parts = rest.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard let id = parts.first, !id.isEmpty else { return nil }
            let reason = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : Self.defaultCancelReason
            self = .cancel(QueueID(String(id)), reason: reason)
        } else {
            return nil
        }
    }

    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }

    public static func directory(_ queue: String) -> String { queue + "/control" }

    /// The commands not yet carried out (read-only, for the tools).
    public static func waiting(queueDirectory: String) -> [QueueControlCommand] {
        let directory = directory(queueDirectory)
        return FileIO.list(directory).filter { !$0.hasPrefix(".") }.compactMap { name in
            (try? FileIO.readAll(directory + "/" + name)).flatMap { QueueControlCommand($0) }
        }
    }

    /// Leaves the command for the daemon (durably).
    public func write(queueDirectory: String) throws(QueueError) {
        let directory = Self.directory(queueDirectory)
        var generator = QueueIDGenerator()
        let name = generator.next(now: Int64(time(nil))).rawValue
        let final = directory + "/" + name
        let temporary = directory + "/.tmp-" + name
        do throws(FileIO.Failure) {
            try FileIO.makeDirectories(directory)
            let fd = try FileIO.openForAppend(temporary, create: true)
            defer { FileIOClose.close(fd) }
            do {
                try FileIO.writeAll(fd, encoded, at: 0, path: temporary)
                try FileIO.fullSync(fd, path: temporary)
                try FileIO.rename(temporary, final)
                try FileIO.syncDirectory(directory)
            } catch {
                FileIO.remove(temporary)
                throw error
            }
        } catch {
            throw error.isNoSpace ? .insufficientStorage : .temporaryFailure(error.description)
        }
    }
}

extension DurableQueue {
    /// Carries out the tools' commands (the scheduler calls this with `scanIncoming`).
    /// A cancel's file stays until the cancelled message is finished, so a crash in between
    /// repeats it; flush files go at once.
    public func processControl() async throws {
        let directory = QueueControlCommand.directory(self.directory)
        let files = try await threadPool.runIfActive { () -> [(String, [UInt8])] in
            FileIO.list(directory).filter { !$0.hasPrefix(".") }.compactMap { name in
                let path = directory + "/" + name
                return (try? FileIO.readAll(path)).map { (path, $0) }
            }
        }
        var finished: [String] = []
        for (path, bytes) in files where !controlFilesSeen.contains(path) {
            switch QueueControlCommand(bytes) {
            case .flushAll:
                flush()
                finished.append(path)
            case .flush(let id):
                flush(id)
                finished.append(path)
            case .cancel(let id, let reason):
                if cancel(id, reason: reason, file: path) {
                    controlFilesSeen.insert(path)
                    logger.info("id=\(id): cancelled: \(reason)")
                } else {
                    finished.append(path)
                }
            case nil:
                logger.warning("queue control file \(path): not a command; removed")
                finished.append(path)
            }
        }
        guard !finished.isEmpty else { return }
        let done = finished
        try await threadPool.runIfActive {
            for path in done { FileIO.remove(path) }
            try FileIO.syncDirectory(directory)
        }
    }
}
