#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Maildir++ quota on disk: reading, checking, rebuilding and appending to `maildirsize`
/// exactly as Courier's maildirquota.C decides (access.md §1.9, tools.md §6.5).
///
/// The quota lives in the top maildir; a folder (a directory with a `maildirfolder` file) is
/// charged to its parent. Messages in `.Trash` and messages flagged `T` do not count.
/// Every operation that changes what is counted should run inside `withLock` (see `QuotaLock`).
public struct MaildirQuota: Sendable {
    /// The top maildir whose `maildirsize` is used.
    public let rootPath: String
    /// The trash folder, which is never counted (Courier's default build; IMAP_TRASHFOLDERNAME).
    public var trashFolderName: String

    /// The quota for `folderPath` (a maildir or one of its folders).
    public init(folderPath: String, trashFolderName: String = "Trash") {
        rootPath = Self.rootPath(for: folderPath)
        self.trashFolderName = trashFolderName
    }

    public var sizeFilePath: String { rootPath + "/maildirsize" }

    /// Follows `maildirfolder` markers up to the real maildir (at most a few levels).
    public static func rootPath(for folderPath: String) -> String {
        var path = folderPath
        for _ in 0..<8 {
            guard SystemCall.exists(path + "/maildirfolder") else { return path }
            path = parentPath(of: path)
        }
        return path
    }

    /// The parent directory of `path`, textually (`md/.Sub` → `md`), or `path/..`.
    static func parentPath(of path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else {
            if bytes == Array(".".utf8) || bytes == Array("..".utf8) { return path + "/.." }
            return "."
        }
        let last = bytes[(slash + 1)...]
        if last.elementsEqual(".".utf8) || last.elementsEqual("..".utf8) { return path + "/.." }
        if slash == 0 { return "/" }
        return String(decoding: bytes[..<slash], as: UTF8.self)
    }

    /// False for the trash folder (path ends in `.Trash`), whose messages are never counted.
    public func countsFolder(_ folderPath: String) -> Bool {
        var bytes = Array(folderPath.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        let last = bytes.lastIndex(of: UInt8(ascii: "/")).map { bytes[($0 + 1)...] } ?? bytes[...]
        return !last.elementsEqual(("." + trashFolderName).utf8)
    }

    // MARK: reading and checking

    /// The current `maildirsize` with its modification time, or nil when there is no quota.
    public func read() -> (file: MaildirSizeFile, modified: Int64)? {
        reading().map { ($0.file, $0.modified) }
    }

    /// The current `maildirsize` and which version of the file it was, or nil when there is no
    /// quota.
    public func reading() -> QuotaReading? {
        let fd = Glibc.open(sizeFilePath, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        // One fstat gives the read size, the modification time and the file's identity.
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        guard let bytes = try? SystemCall.readAll(fd, path: sizeFilePath, limit: MaildirSizeFile.readLimit,
                                                  status: st) else { return nil }
        return QuotaReading(file: MaildirSizeFile.parse(bytes), modified: Int64(st.st_mtim.tv_sec),
                            version: FileVersion(st))
    }

    /// `previous` if `maildirsize` is still the file it was read from (one `stat`), else a
    /// fresh `reading()`. A delivery reads the file before copying the message, to refuse it
    /// early, and again under the quota lock; when nobody appended to or replaced the file in
    /// between, the second look costs one system call instead of five.
    public func reading(unlessUnchanged previous: QuotaReading) -> QuotaReading? {
        var st = stat()
        guard stat(sizeFilePath, &st) == 0 else { return nil }
        return FileVersion(st) == previous.version ? previous : reading()
    }

    /// The result of a quota check.
    public enum Check: Equatable, Sendable {
        /// No `maildirsize`: no quota.
        case unlimited
        /// Within quota; how full (percent) the maildir would be.
        case within(percent: Int)
        /// Over quota.
        case exceeded
    }

    /// Would adding `delta` stay within quota? Follows Courier: trust the totals when they are
    /// within quota; when they are over quota but the file has more than one data line or is at
    /// least 15 minutes old (or overflowed, or went negative), rebuild it from the messages and
    /// decide again. `newQuota` replaces the stored definition (deliverquota's quota argument).
    public func check(adding delta: QuotaUsage, newQuota: QuotaSpec? = nil,
                      now: Int64 = SystemCall.now().seconds) throws(MaildirError) -> Check {
        try check(adding: delta, newQuota: newQuota, now: now, current: reading())
    }

    /// `check(adding:newQuota:now:)` on a `maildirsize` the caller has just read (`reading()`,
    /// `reading(unlessUnchanged:)`; nil: there is none).
    public func check(adding delta: QuotaUsage, newQuota: QuotaSpec? = nil,
                      now: Int64 = SystemCall.now().seconds, current reading: QuotaReading?) throws(MaildirError) -> Check {
        var current = reading.map { (file: $0.file, modified: $0.modified) }
        if let newQuota, !newQuota.isUnlimited {
            if current == nil {
                _ = try recalculate(quota: newQuota)
                current = read()
            } else if var c = current, c.file.quota != newQuota {
                c.file.quota = newQuota
                c.file.overflowed = true
                current = c
            }
        }
        guard let (file, modified) = current else { return .unlimited }
        if !file.needsRecalculation {
            let total = file.usage + delta
            if !file.quota.isExceeded(by: total) { return .within(percent: file.quota.percentUsed(by: total)) }
            if file.dataLines == 1 && now < modified + MaildirSizeFile.trustSeconds { return .exceeded }
        }
        let usage = try recalculate(quota: file.quota)
        let total = usage + delta
        return file.quota.isExceeded(by: total) ? .exceeded : .within(percent: file.quota.percentUsed(by: total))
    }

    /// How full the maildir is, in percent (0 without a quota).
    public func percentFull() -> Int {
        guard let result = try? check(adding: .zero) else { return 0 }
        switch result {
        case .unlimited: return 0
        case .within(let p): return p
        case .exceeded: return 100
        }
    }

    // MARK: changing

    /// Appends a `<bytes> <count>` line (nothing if there is no `maildirsize`).
    public func add(_ delta: QuotaUsage) throws(MaildirError) {
        let fd = Glibc.open(sizeFilePath, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw SystemCall.failure("open", sizeFilePath)
        }
        defer { close(fd) }
        // One write() with O_APPEND: concurrent appenders never interleave within a line.
        try SystemCall.writeAll(fd, Array(MaildirSizeFile.deltaLine(delta).utf8), path: sizeFilePath)
    }

    /// Sets the quota (maildirmake -q): rebuilds `maildirsize` with the new definition and the
    /// counted totals. An unlimited spec is ignored, as Courier ignores it.
    public func setQuota(_ quota: QuotaSpec) throws(MaildirError) {
        if quota.isUnlimited { return }
        try withLock { () throws(MaildirError) in _ = try recalculate(quota: quota) }
    }

    /// Runs `body` under the quota lock (only when a `maildirsize` exists: without a quota there
    /// is nothing to keep consistent). `knownToExist`: the caller has just read `maildirsize`
    /// (no `lstat` to find out).
    public func withLock<T>(knownToExist: Bool = false, _ body: () throws(MaildirError) -> T) throws(MaildirError) -> T {
        if !knownToExist && !SystemCall.exists(sizeFilePath) { return try body() }
        return try QuotaLock.withLock(maildirPath: rootPath, body)
    }

    // MARK: recalculation

    /// Counts the messages (`new/` and `cur/` of the maildir and of every folder but Trash; sizes
    /// from `,S=` or stat(); `T`-flagged messages skipped), writes `maildirsize` through `tmp/`, and
    /// returns the totals. If a directory changed while counting, counts again (up to 5 times).
    @discardableResult
    public func recalculate(quota: QuotaSpec) throws(MaildirError) -> QuotaUsage {
        var usage = QuotaUsage.zero
        for _ in 0..<5 {
            var stamps: [String: timespec] = [:]
            usage = countAll(stamps: &stamps)
            try writeRebuilt(quota: quota, usage: usage)
            if !directoriesChanged(since: stamps) { break }
        }
        return usage
    }

    /// The directories whose messages are counted: the root and every folder except Trash.
    func countedDirectories() -> [String] {
        var dirs = [rootPath]
        for entry in SystemCall.listDirectory(rootPath) ?? [] {
            let name = entry.name
            guard name.utf8.first == UInt8(ascii: "."), !entry.isSymbolicLink else { continue }
            guard countsFolder(name) else { continue }
            dirs.append(rootPath + "/" + name)
        }
        return dirs
    }

    func countAll(stamps: inout [String: timespec]) -> QuotaUsage {
        var usage = QuotaUsage.zero
        for dir in countedDirectories() {
            for sub in ["/new", "/cur"] {
                let path = dir + sub
                guard let st = SystemCall.status(path) else { continue }
                stamps[path] = st.st_mtim
                usage = usage + Self.countMessages(in: path)
            }
        }
        return usage
    }

    /// The counted messages of one `new/` or `cur/` directory.
    public static func countMessages(in path: String) -> QuotaUsage {
        // Names are read in place: a recalculation over thousands of messages makes no String
        // except for the rare name without `,S=`.
        var usage = QuotaUsage.zero
        SystemCall.forEachName(in: path) { bytes in
            if bytes.first == UInt8(ascii: ".") { return }
            if !MessageFileName.countsTowardQuota(bytes) { return }
            var size: Int64
            if let hint = MessageFileName.sizeHint(in: bytes) {
                size = hint
            } else {
                guard let st = SystemCall.status(path + "/" + String(decoding: bytes, as: UTF8.self)) else { return }
                size = Int64(st.st_size)
            }
            usage = usage + QuotaUsage(bytes: size, messages: 1)
        }
        return usage
    }

    func directoriesChanged(since stamps: [String: timespec]) -> Bool {
        var seen = 0
        for dir in countedDirectories() {
            for sub in ["/new", "/cur"] {
                let path = dir + sub
                guard let st = SystemCall.status(path) else { continue }
                seen += 1
                guard let old = stamps[path] else { return true }
                if old.tv_sec != st.st_mtim.tv_sec || old.tv_nsec != st.st_mtim.tv_nsec { return true }
            }
        }
        return seen != stamps.count
    }

    func writeRebuilt(quota: QuotaSpec, usage: QuotaUsage) throws(MaildirError) {
        let host = UniqueName.escapeHost(SystemCall.hostName())
        let bytes = Array(MaildirSizeFile.rebuilt(quota: quota, usage: usage).utf8)
        var attempts = 0
        while true {
            let t = SystemCall.now()
            let temporary = rootPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_NeWmAiLdIrSiZe.\(host)"
            do throws(MaildirError) {
                try SystemCall.replaceFile(sizeFilePath, temporaryPath: temporary, bytes: bytes, mode: 0o644)
                return
            } catch {
                attempts += 1
                if error.errnoValue != EEXIST || attempts > 100 { throw error }
            }
        }
    }
}
