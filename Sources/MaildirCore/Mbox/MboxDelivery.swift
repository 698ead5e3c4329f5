#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Appends a message to an mbox file under Courier's locks (`MailboxLock`: C-Client lock,
/// dot-lock, fcntl), for the local transport. The message is fsynced before the lock is
/// released; if anything fails, the file is cut back to its old length so no partial message
/// stays behind.
public enum MboxDelivery {
    /// Locks `mailboxPath` (creating it 0600 if missing), retrying every `retryDelay` seconds
    /// up to `attempts` times, then appends what `writeMessage` writes through the given writer.
    public static func append(mailboxPath: String, attempts: Int = 60, retryDelay: UInt32 = 5,
                              writeMessage: (MboxWriter) throws(MaildirError) -> Void) throws(MaildirError) {
        let created = Glibc.open(mailboxPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if created >= 0 { close(created) }
        var lock: MailboxLock?
        for attempt in 0..<max(attempts, 1) {
            switch MailboxLock.attempt(mailboxPath: mailboxPath) {
            case .success(let l):
                lock = l
            case .failure(.missing):
                throw .notFound(mailboxPath)
            case .failure(.failed(let e)):
                throw e
            case .failure(.busy):
                if attempt + 1 < attempts { sleep(retryDelay) }
            }
            if lock != nil { break }
        }
        guard let lock else { throw .lockTimeout(mailboxPath) }
        defer { lock.release() }
        let fd = lock.descriptor
        let start = lseek(fd, 0, SEEK_END)
        if start < 0 { throw SystemCall.failure("lseek", mailboxPath) }
        let writer = MboxWriter(fd: fd, path: mailboxPath)
        do throws(MaildirError) {
            try writeMessage(writer)
            try writer.flush()
            try SystemCall.fsync(fd, path: mailboxPath)
        } catch {
            _ = ftruncate(fd, start)
            throw error
        }
    }

    /// The `From ` separator line: `From <sender> <asctime date>\n` (asctime in UTC when the
    /// caller passes a UTC broken-down time).
    public static func fromLine(sender: String, date: String) -> [UInt8] {
        Array(("From " + (sender.isEmpty ? "MAILER-DAEMON" : sender) + " " + date + "\n").utf8)
    }
}

/// Writes message bytes into an mbox, quoting body lines that would look like a separator:
/// a line matching `>*From ` gets one more `>` (the mboxrd convention Courier uses).
public final class MboxWriter {
    let fd: Int32
    let path: String
    private var buffer: [UInt8] = []
    private var lineStart: [UInt8] = []   // bytes of the current line while it may still be ">*From "
    private var atLineStart = true

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Writes bytes verbatim (the `From ` line).
    public func writeRaw(_ bytes: [UInt8]) throws(MaildirError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 64 * 1024 { try flush() }
    }

    /// Writes message bytes with `From ` quoting; call `finish` after the last chunk.
    public func writeQuoted(_ bytes: some Sequence<UInt8>) throws(MaildirError) {
        for b in bytes {
            if atLineStart {
                lineStart.append(b)
                if let decided = decide() {
                    if decided { buffer.append(UInt8(ascii: ">")) }
                    buffer.append(contentsOf: lineStart)
                    lineStart.removeAll(keepingCapacity: true)
                    atLineStart = false
                }
                if b == UInt8(ascii: "\n") {
                    buffer.append(contentsOf: lineStart)
                    lineStart.removeAll(keepingCapacity: true)
                    atLineStart = true
                }
            } else {
                buffer.append(b)
                if b == UInt8(ascii: "\n") { atLineStart = true }
            }
            if buffer.count >= 64 * 1024 { try flush() }
        }
    }

    /// nil while `lineStart` may still become `>*From `; true to quote, false not to.
    private func decide() -> Bool? {
        let from = Array("From ".utf8)
        var i = 0
        while i < lineStart.count, lineStart[i] == UInt8(ascii: ">") { i += 1 }
        let rest = lineStart[i...]
        if rest.count >= from.count { return rest.starts(with: from) }
        if !from.starts(with: rest) { return false }
        return nil
    }

    /// Ends the message: pending bytes out, a final newline if missing, and the blank line that
    /// separates mbox messages.
    public func finish() throws(MaildirError) {
        buffer.append(contentsOf: lineStart)
        if !lineStart.isEmpty || !atLineStart { buffer.append(UInt8(ascii: "\n")) }
        lineStart.removeAll()
        atLineStart = true
        buffer.append(UInt8(ascii: "\n"))
        try flush()
    }

    func flush() throws(MaildirError) {
        if buffer.isEmpty { return }
        try SystemCall.writeAll(fd, buffer, path: path)
        buffer.removeAll(keepingCapacity: true)
    }
}
