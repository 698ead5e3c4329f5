#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A Maildir++ mailbox: the top directory (INBOX) and its `.Folder` directories (access.md
/// §1.1-1.3). A value type holding a path, so it can be handed to any thread; every method is
/// synchronous and blocking, meant to run off the event loops (DESIGN.md "Concurrency") — the
/// servers' async store wraps it.
public struct Maildir: Hashable, Sendable {
    /// The top directory.
    public let path: String
    /// The trash folder's name (IMAP_TRASHFOLDERNAME), which does not count towards quota.
    public var trashFolderName: String

    public init(path: String, trashFolderName: String = "Trash") {
        self.path = path
        self.trashFolderName = trashFolderName
    }

    /// The directory of INBOX (nil) or of a folder.
    public func directory(of folder: FolderName?) -> String {
        guard let folder else { return path }
        return path + "/" + folder.directoryName
    }

    /// The quota of this maildir.
    public var quota: MaildirQuota { MaildirQuota(folderPath: path, trashFolderName: trashFolderName) }

    // MARK: creating maildirs

    /// Creates a maildir at `path` (Courier's maildir::make): the directory with `mode`, then
    /// `tmp`, `new` and `cur` with `subdirectoryMode`, and for a folder an empty `maildirfolder`
    /// (mode 0600). Modes are subject to the process umask. Fails if `path` exists.
    public static func create(at path: String, mode: mode_t = 0o700, subdirectoryMode: mode_t = 0o700,
                              isFolder: Bool = false) throws(MaildirError) {
        try SystemCall.makeDirectory(path, mode: mode)
        for sub in ["/tmp", "/new", "/cur"] {
            try SystemCall.makeDirectory(path + sub, mode: subdirectoryMode)
        }
        if isFolder {
            let fd = try SystemCall.open(path + "/maildirfolder", O_CREAT | O_WRONLY, mode: 0o600)
            close(fd)
        }
    }

    /// `mkdir -p` for `path` and its `cur`, `new`, `tmp` (deliverquota -c), all mode 0700;
    /// existing directories are fine.
    public static func createWithParents(at path: String) throws(MaildirError) {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        var prefixes: [String] = []
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "/") && i > 0 {
            prefixes.append(String(decoding: bytes[..<i], as: UTF8.self))
        }
        let top = String(decoding: bytes, as: UTF8.self)
        prefixes.append(top)
        for sub in ["/cur", "/new", "/tmp"] { prefixes.append(top + sub) }
        for p in prefixes where mkdir(p, 0o700) != 0 && errno != EEXIST {
            throw SystemCall.failure("mkdir", p)
        }
    }

    /// fsyncs a directory (for `DirectorySync.deferred` group commits).
    public static func syncDirectory(_ path: String) throws(MaildirError) {
        try SystemCall.syncDirectory(path)
    }

    // MARK: folders

    /// Creates a folder (`.Name` with `maildirfolder`). Creating `a.b` creates only `.a.b`.
    public func createFolder(_ folder: FolderName, mode: mode_t = 0o700) throws(MaildirError) {
        let dir = directory(of: folder)
        if SystemCall.exists(dir) { throw .alreadyExists(dir) }
        try Self.create(at: dir, mode: mode, subdirectoryMode: mode, isFolder: true)
    }

    /// The folders, sorted by name: every `.Name` directory whose name is a valid folder name.
    public func folders() -> [FolderName] {
        var result: [FolderName] = []
        for entry in SystemCall.listDirectory(path) ?? [] {
            guard let folder = FolderName.fromDirectoryName(entry.name) else { continue }
            if entry.isDirectory == false && !entry.isSymbolicLink { continue }
            guard SystemCall.isDirectory(path + "/" + entry.name) else { continue }
            result.append(folder)
        }
        return result.sorted()
    }

    /// True if the folder's directory exists.
    public func folderExists(_ folder: FolderName) -> Bool {
        SystemCall.isDirectory(directory(of: folder))
    }

    /// Renames a folder and every folder below it (`a` → `b` also moves `a.x` to `b.x`). Fails
    /// when nothing exists under `from`, when any target exists, or when `to` lies inside `from`.
    /// If a rename fails midway the ones already done are undone.
    public func renameFolder(_ from: FolderName, to: FolderName) throws(MaildirError) {
        if to.isInside(from) { throw .invalidFolderName(to.name) }
        let moving = folders().filter { $0.isInside(from) }
        if moving.isEmpty { throw .notFound(directory(of: from)) }
        var pairs: [(FolderName, FolderName)] = []
        for folder in moving {
            let suffix = String(folder.name.utf8.dropFirst(from.name.utf8.count)) ?? ""
            let target = try FolderName(to.name + suffix)
            if SystemCall.exists(directory(of: target)) { throw .alreadyExists(directory(of: target)) }
            pairs.append((folder, target))
        }
        var done: [(FolderName, FolderName)] = []
        for (old, new) in pairs {
            if rename(directory(of: old), directory(of: new)) != 0 {
                let failure = SystemCall.failure("rename", directory(of: old))
                for (o, n) in done.reversed() { _ = rename(directory(of: n), directory(of: o)) }
                throw failure
            }
            done.append((old, new))
        }
    }

    /// Deletes one folder's directory tree (not the folders below it). The quota is recalculated
    /// afterwards, as Courier-IMAP does.
    public func deleteFolder(_ folder: FolderName) throws(MaildirError) {
        let dir = directory(of: folder)
        guard SystemCall.isDirectory(dir) else { throw .notFound(dir) }
        let q = quota
        try q.withLock { () throws(MaildirError) in
            try SystemCall.removeTree(dir)
            if let current = q.read() { try q.recalculate(quota: current.file.quota) }
        }
    }

    // MARK: messages

    /// Changes a message's flags: renames `cur/<name>` to `cur/<base>:2,<flags>`. Setting `T`
    /// (deleted) takes the message out of the quota count (`-size -1`), clearing it puts it back
    /// and is refused when that would exceed the quota, as Courier-IMAP does. Throws `.notFound`
    /// when the file is gone (another session renamed or expunged it: rescan).
    @discardableResult
    public func setFlags(folder: FolderName?, fileName: MessageFileName,
                         flags: MessageFlags) throws(MaildirError) -> MessageFileName {
        let dir = directory(of: folder)
        let newName = fileName.withFlags(flags)
        if newName == fileName { return fileName }
        let oldPath = dir + "/cur/" + fileName.name
        let newPath = dir + "/cur/" + newName.name
        let q = MaildirQuota(folderPath: dir, trashFolderName: trashFolderName)
        let wasCounted = fileName.countsTowardQuota
        let willCount = newName.countsTowardQuota
        return try q.withLock { () throws(MaildirError) -> MessageFileName in
            var delta = QuotaUsage.zero
            if wasCounted != willCount && q.countsFolder(dir) {
                let size = try Self.messageSize(fileName, path: oldPath)
                delta = QuotaUsage(bytes: willCount ? size : -size, messages: willCount ? 1 : -1)
                if willCount, try q.check(adding: delta) == .exceeded { throw MaildirError.quotaExceeded }
            }
            try CurDirectoryLock.withLock(folderPath: dir, exclusive: false) { () throws(MaildirError) in
                if rename(oldPath, newPath) != 0 {
                    if errno == ENOENT { throw MaildirError.notFound(oldPath) }
                    throw SystemCall.failure("rename", oldPath)
                }
            }
            if delta != .zero { try? q.add(delta) }
            return newName
        }
    }

    /// Removes a message from `cur/` for good; a counted message (not `T`, not in Trash) is
    /// taken off the quota (`-size -1`). Throws `.notFound` if it is already gone.
    public func expunge(folder: FolderName?, fileName: MessageFileName) throws(MaildirError) {
        let dir = directory(of: folder)
        let filePath = dir + "/cur/" + fileName.name
        let q = MaildirQuota(folderPath: dir, trashFolderName: trashFolderName)
        try q.withLock { () throws(MaildirError) in
            let counted = fileName.countsTowardQuota && q.countsFolder(dir)
            let size = counted ? try Self.messageSize(fileName, path: filePath) : 0
            if unlink(filePath) != 0 {
                if errno == ENOENT { throw MaildirError.notFound(filePath) }
                throw SystemCall.failure("unlink", filePath)
            }
            if counted { try? q.add(QuotaUsage(bytes: -size, messages: -1)) }
        }
    }

    /// The size quota uses for a message: `,S=` or the file's size.
    static func messageSize(_ name: MessageFileName, path: String) throws(MaildirError) -> Int64 {
        if let hint = name.sizeHint { return hint }
        guard let st = SystemCall.status(path) else {
            throw errno == ENOENT ? MaildirError.notFound(path) : SystemCall.failure("stat", path)
        }
        return Int64(st.st_size)
    }

    /// Removes files in `tmp/` whose change time is at least `age` seconds ago (36 hours for
    /// IMAP, 48 for POP3) — leftovers of interrupted deliveries.
    public func purgeTemporaryFiles(folder: FolderName?, olderThan age: Int64 = 36 * 3600) {
        let tmp = directory(of: folder) + "/tmp"
        let now = SystemCall.now().seconds
        for name in SystemCall.names(in: tmp) {
            let p = tmp + "/" + name
            guard let st = SystemCall.linkStatus(p), (st.st_mode & S_IFMT) == S_IFREG else { continue }
            if Int64(st.st_ctim.tv_sec) <= now - age { unlink(p) }
        }
    }
}
