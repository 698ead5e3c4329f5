#if canImport(Glibc)
import Glibc
#endif

/// How `sendmail` enqueues without the daemon: one message record in a file of its own under
/// `var/queue/incoming/`, written as `.tmp-NAME`, fsynced, renamed to `NAME`, and the
/// directory fsynced; the queue's owner imports it into the log (Docs/queue-format.md).
public enum IncomingDrop {
    /// Writes the message durably; returns its queue id.
    public static func write(queueDirectory: String, envelope: QueueEnvelope, body: [UInt8],
                             queueTime: Int) throws(QueueError) -> QueueID {
        let incoming = QueueRecovery.incomingDirectory(queueDirectory)
        let now = Int64(time(nil))
        var generator = QueueIDGenerator()
        let id = generator.next(now: now)
        let header = QueuedMessageHeader(id: id, submitted: now, expires: now + Int64(queueTime), envelope: envelope)
        let record = QueueRecord.message(header, body: body).encoded()
        let final = incoming + "/" + id.rawValue
        let temporary = incoming + "/.tmp-" + id.rawValue
        do throws(FileIO.Failure) {
            try FileIO.makeDirectories(incoming)
            let fd = try FileIO.openForAppend(temporary, create: true)
            defer { FileIOClose.close(fd) }
            do {
                try FileIO.writeAll(fd, record, at: 0, path: temporary)
                try FileIO.fullSync(fd, path: temporary)
                try FileIO.rename(temporary, final)
                try FileIO.syncDirectory(incoming)
            } catch {
                FileIO.remove(temporary)
                throw error
            }
        } catch {
            throw error.isNoSpace ? .insufficientStorage : .temporaryFailure(error.description)
        }
        return id
    }
}
