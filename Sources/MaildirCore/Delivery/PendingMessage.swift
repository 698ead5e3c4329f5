#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a committed message goes.
public enum DeliveryDestination: Hashable, Sendable {
    /// `new/`, no info part: an ordinary delivery.
    case new
    /// `cur/` with these flags (IMAP APPEND, COPY).
    case cur(MessageFlags)
}

/// How a delivery treats the Maildir++ quota.
public enum QuotaMode: Hashable, Sendable {
    /// Refuse the message (`MaildirError.quotaExceeded`) if it does not fit; count it otherwise.
    case enforce(newQuota: QuotaSpec? = nil)
    /// Count the message even if it is over quota (Courier's quota-warning message).
    case countOnly
    /// Leave `maildirsize` alone (the caller accounts, or the folder is shared).
    case ignore
}

/// When the directory entry of a committed message is made durable.
public enum DirectorySync: Hashable, Sendable {
    /// fsync the destination directory before `commit` returns.
    case immediate
    /// The caller fsyncs the directory itself (`Maildir.syncDirectory`), e.g. once for a batch
    /// (group commit); it must do so before acknowledging the message.
    case deferred
}

/// The steps of a delivery, named for fault-injection tests.
public enum DeliveryStep: Hashable, Sendable {
    case create, write, fsyncFile, link, syncDirectory
}

/// A delivered message.
public struct DeliveredMessage: Hashable, Sendable {
    /// The full path of the file in `new/` or `cur/`.
    public var path: String
    /// Its file name.
    public var fileName: MessageFileName
    /// Its size in bytes.
    public var size: Int64
}

/// A message being delivered into a maildir (access.md §1.1; DESIGN.md "Durability"):
/// it is written to `tmp/<unique>`, fsynced, then linked into `new/` (or `cur/`) under its final
/// unique name, and the directory is fsynced. Until `commit` succeeds nothing is visible; when
/// anything fails (including `abort()` or dropping the object) no file is left in `tmp/`, `new/`
/// or `cur/`.
///
/// The object is meant to be fed in chunks (a tool reading stdin, a server receiving an APPEND
/// literal) and is not shared between threads.
public final class PendingMessage {
    /// The maildir or folder directory the message goes into.
    public let folderPath: String
    /// Its file in `tmp/` while it is written.
    public let temporaryPath: String
    /// Bytes written so far.
    public private(set) var size: Int64 = 0

    private var fd: Int32
    private let name: UniqueName
    private let device: UInt64
    private let inode: UInt64
    private var finished = false
    /// Test hook: returns an errno to simulate at a step.
    public var injectFault: ((DeliveryStep) -> Int32?)?

    /// Creates the temporary file in `folderPath/tmp/`. `uniq` is Courier's optional `_<uniq>`
    /// name part. Throws ENOENT (as `.system`) when the maildir does not exist. `injectFault`
    /// is for tests: it may return an errno to simulate at a step.
    public init(folderPath: String, uniq: String? = nil, hostName: String? = nil,
                injectFault: ((DeliveryStep) -> Int32?)? = nil) throws(MaildirError) {
        self.folderPath = folderPath
        self.injectFault = injectFault
        let host = UniqueName.escapeHost(hostName ?? SystemCall.hostName())
        var attempts = 0
        while true {
            let t = SystemCall.now()
            let candidate = UniqueName(seconds: t.seconds, microseconds: t.microseconds, pid: getpid(),
                                       uniq: uniq, host: host)
            let path = folderPath + "/tmp/" + candidate.temporaryName
            if let e = injectFault?(.create) { throw SystemCall.failure("open", path, e) }
            // O_EXCL instead of Courier's stat()-then-open: two threads of one process can never
            // share a file; on a clash try again with a new time stamp.
            let opened = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if opened < 0 {
                let e = errno
                attempts += 1
                if e == EEXIST && attempts < 1000 { usleep(1); continue }
                throw SystemCall.failure("open", folderPath, e)
            }
            var st = stat()
            if fstat(opened, &st) != 0 {
                let e = errno
                close(opened)
                unlink(path)
                throw SystemCall.failure("fstat", path, e)
            }
            fd = opened
            name = candidate
            temporaryPath = path
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            return
        }
    }

    deinit { abort() }

    /// Appends bytes to the message. On failure the message is aborted.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(MaildirError) {
        guard !finished else { throw SystemCall.failure("write", temporaryPath, EBADF) }
        do throws(MaildirError) {
            if let e = injectFault?(.write) { throw SystemCall.failure("write", temporaryPath, e) }
            try SystemCall.writeAll(fd, bytes, path: temporaryPath)
            size += Int64(bytes.count)
        } catch {
            abort()
            throw error
        }
    }

    public func write(_ bytes: [UInt8]) throws(MaildirError) {
        let failure = bytes.withUnsafeBytes { raw -> MaildirError? in
            do throws(MaildirError) { try write(raw); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Copies everything from `input` (until end of file) into the message. `knownSize` (the
    /// input's size, when it is a regular file) sizes the buffer to fit, at most `copyChunk`;
    /// the buffer is left uninitialised: a zero-filled 64 KiB buffer costs a memset, 16 page
    /// faults and a brk up and down for a 4 KiB message. A size that turns out short only
    /// means more reads; a read that comes back short exactly at that size is the end of the
    /// file (no last read(2) returning 0), so `knownSize` must be the regular file's size.
    public func write(from input: Int32, inputName: String = "stdin", knownSize: Int64? = nil) throws(MaildirError) {
        let capacity = knownSize.map { Int(clamping: min(max($0 + 1, 512), Int64(Self.copyChunk))) } ?? Self.copyChunk
        var chunk = [UInt8](unsafeUninitializedCapacity: capacity) { _, initialized in initialized = capacity }
        var copied: Int64 = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                abort()
                throw SystemCall.failure("read", inputName, e)
            }
            if n == 0 { return }
            let failure = chunk.withUnsafeBytes { raw -> MaildirError? in
                do throws(MaildirError) { try write(UnsafeRawBufferPointer(rebasing: raw[0..<n])); return nil } catch { return error }
            }
            if let failure { throw failure }
            copied += Int64(n)
            // A short read that completes the file's known size is its end: no read(2) for 0.
            if let knownSize, n < chunk.count, copied == knownSize { return }
        }
    }

    /// The largest read of ``write(from:inputName:knownSize:)``.
    public static let copyChunk = 64 * 1024

    /// The final file name the message will have (depends on its size so far).
    public func finalName(destination: DeliveryDestination = .new) -> MessageFileName {
        var n = name
        n.size = size
        let base = n.finalName(device: device, inode: inode)
        switch destination {
        case .new: return MessageFileName(base)
        case .cur(let flags): return MessageFileName(base + flags.infoSuffix)
        }
    }

    /// Makes the message durable and visible. `quota` decides about `maildirsize` (a message in
    /// Trash, or an empty one, is never counted). On any failure nothing is left behind.
    /// `quotaReading` is `maildirsize` as the caller read it just before (deliverquota's check
    /// before copying): under the lock one `stat` then tells whether it must be read again.
    public func commit(to destination: DeliveryDestination = .new, quota: QuotaMode = .enforce(),
                       sync: DirectorySync = .immediate,
                       quotaPolicy: MaildirQuota? = nil,
                       quotaReading: QuotaReading? = nil) throws(MaildirError) -> DeliveredMessage {
        guard !finished else { throw SystemCall.failure("commit", temporaryPath, EBADF) }
        do throws(MaildirError) {
            if let e = injectFault?(.fsyncFile) { throw SystemCall.failure("fsync", temporaryPath, e) }
            // fdatasync: the data and what is needed to read it back (size, blocks) are on disk
            // before the link; only time stamps may lag, and nothing depends on them surviving a
            // crash to the nanosecond.
            try SystemCall.dataSync(fd, path: temporaryPath)
        } catch {
            abort()
            throw error
        }
        close(fd)
        fd = -1

        let fileName = finalName(destination: destination)
        let subdirectory: String
        switch destination {
        case .new: subdirectory = "/new"
        case .cur: subdirectory = "/cur"
        }
        let directory = folderPath + subdirectory
        let finalPath = directory + "/" + fileName.name
        let quotaInfo = quotaPolicy ?? MaildirQuota(folderPath: folderPath)
        let counted = size > 0 && quotaInfo.countsFolder(folderPath)

        do throws(MaildirError) {
            let place = { () throws(MaildirError) in try self.placeFile(at: finalPath) }
            switch quota {
            case .ignore:
                try place()
            case .countOnly where counted:
                try quotaInfo.withLock { () throws(MaildirError) in
                    try place()
                    try? quotaInfo.add(QuotaUsage(bytes: size, messages: 1))
                }
            case .enforce(let newQuota) where counted:
                try quotaInfo.withLock(knownToExist: quotaReading != nil) { () throws(MaildirError) in
                    let delta = QuotaUsage(bytes: size, messages: 1)
                    let current: QuotaReading?
                    if let quotaReading {
                        current = quotaInfo.reading(unlessUnchanged: quotaReading)
                    } else {
                        current = quotaInfo.reading()
                    }
                    if try quotaInfo.check(adding: delta, newQuota: newQuota, current: current) == .exceeded {
                        throw MaildirError.quotaExceeded
                    }
                    try place()
                    // The message is in place: a failed quota append only makes the estimate
                    // low until the next recalculation; it must not lose the message.
                    try? quotaInfo.add(delta)
                }
            default:
                try place()
            }
        } catch {
            abort()
            throw error
        }
        unlink(temporaryPath)
        finished = true

        if sync == .immediate {
            do throws(MaildirError) {
                if let e = injectFault?(.syncDirectory) { throw SystemCall.failure("fsync", directory, e) }
                try SystemCall.syncDirectory(directory)
            } catch {
                // Not durable, so not delivered: take it back (and its quota line).
                if unlink(finalPath) == 0, counted, quota != .ignore {
                    try? quotaInfo.withLock { () throws(MaildirError) in
                        try quotaInfo.add(QuotaUsage(bytes: -size, messages: -1))
                    }
                }
                throw error
            }
        }
        return DeliveredMessage(path: finalPath, fileName: fileName, size: size)
    }

    /// link() the temporary file to its final name (rename() where links are not possible).
    private func placeFile(at finalPath: String) throws(MaildirError) {
        if let e = injectFault?(.link) { throw SystemCall.failure("link", finalPath, e) }
        if link(temporaryPath, finalPath) == 0 { return }
        let e = errno
        if e == EXDEV || e == EPERM || e == ENOTSUP {
            if rename(temporaryPath, finalPath) == 0 { return }
        }
        throw SystemCall.failure("link", temporaryPath, e == EXDEV ? errno : e)
    }

    /// Discards the message: closes and removes the temporary file. Safe to call twice.
    public func abort() {
        if finished { return }
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
    }
}
