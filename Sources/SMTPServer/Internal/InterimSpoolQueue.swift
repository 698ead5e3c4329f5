import MailQueue
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// INTERIM: a minimal durable queue so the demo really accepts and keeps mail until the
/// queue branch's `MessageQueue` lands; replace its one use in `SMTPListenerPlugin`.
///
/// One file per message in `DIR/var/queue/interim/`: the envelope as `Key: value` lines, a
/// blank line, then the message. Written as `<id>.tmp`; `commit()` fsyncs the file, renames
/// it to `<id>.msg` and fsyncs the directory, so a 250 survives a crash. Blocking calls run
/// on NIO's thread pool, never on an event loop.
public struct InterimSpoolQueue: MessageQueue {
    public let directory: String

    public init(root: String) {
        directory = root + "/var/queue/interim"
    }

    public func submit(_ envelope: QueueEnvelope) async throws -> any MessageSubmission {
        let directory = self.directory
        return try await NIOThreadPool.singleton.runIfActive {
            _ = mkdir(String(directory.dropLast("/queue/interim".count)), 0o755)
            _ = mkdir(String(directory.dropLast("/interim".count)), 0o750)
            _ = mkdir(directory, 0o750)
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let id = String(now.tv_sec, radix: 16, uppercase: true) + "." + String(now.tv_nsec, radix: 16, uppercase: true)
                + "." + String(getpid(), radix: 16, uppercase: true) + "." + String(UInt32.random(in: 0...UInt32.max), radix: 16, uppercase: true)
            let path = directory + "/" + id + ".tmp"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw QueueError.temporaryFailure("cannot create \(path): errno \(errno)") }
            let submission = InterimSubmission(fd: fd, id: id, directory: directory)
            var head = "Sender: \(envelope.sender)\n"
            for recipient in envelope.recipients {
                head += "Recipient: \(recipient.address)"
                if let original = recipient.originalRecipient { head += " ORCPT=\(original)" }
                head += "\n"
            }
            if let client = envelope.clientAddress { head += "Client: \(client)\n" }
            head += "\n"
            try submission.writeBlocking(Array(head.utf8))
            return submission
        }
    }
}

/// One message being written by `InterimSpoolQueue`.
final class InterimSubmission: MessageSubmission, @unchecked Sendable {
    // The handler calls write/commit/abort one after another, never concurrently.
    private var fd: Int32
    private let id: String
    private let directory: String

    init(fd: Int32, id: String, directory: String) {
        self.fd = fd
        self.id = id
        self.directory = directory
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(directory + "/" + id + ".tmp")
        }
    }

    func writeBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw errno == ENOSPC ? QueueError.insufficientStorage : QueueError.temporaryFailure("write: errno \(errno)")
            }
            offset += written
        }
    }

    func write(_ bytes: [UInt8]) async throws {
        try await NIOThreadPool.singleton.runIfActive { try self.writeBlocking(bytes) }
    }

    func commit() async throws -> QueueID {
        try await NIOThreadPool.singleton.runIfActive {
            guard self.fd >= 0 else { throw QueueError.temporaryFailure("submission already closed") }
            guard fsync(self.fd) == 0 else { throw QueueError.temporaryFailure("fsync: errno \(errno)") }
            close(self.fd)
            self.fd = -1
            let from = self.directory + "/" + self.id + ".tmp"
            guard rename(from, self.directory + "/" + self.id + ".msg") == 0 else {
                unlink(from)
                throw QueueError.temporaryFailure("rename: errno \(errno)")
            }
            let dirfd = open(self.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { if dirfd >= 0 { close(dirfd) } }
            guard dirfd >= 0, fsync(dirfd) == 0 else { throw QueueError.temporaryFailure("directory fsync: errno \(errno)") }
            return QueueID(self.id)
        }
    }

    func abort() async {
        _ = try? await NIOThreadPool.singleton.runIfActive {
            if self.fd >= 0 {
                close(self.fd)
                self.fd = -1
                unlink(self.directory + "/" + self.id + ".tmp")
            }
        }
    }
}
