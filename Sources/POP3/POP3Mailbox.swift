import MaildirCore
#if canImport(Glibc)
import Glibc
#endif

/// A Maildir's INBOX as Courier's pop3d opens and closes it (spec/access.md §3.3, §3.4).
/// Synchronous file work: the server runs it off the event loop.
public struct POP3Mailbox: Sendable {
    public let path: String
    /// Files in `tmp/` older than this are removed at login (POP3 uses 48 hours).
    public static let tmpMaxAge: Int64 = 48 * 3600
    public static let sizeListName = "courierpop3dsizelist"

    public init(path: String) {
        self.path = path
    }

    /// Why a mailbox cannot be opened.
    public enum OpenError: Error, Equatable, Sendable {
        case noCurDirectory
    }

    /// Opens the mailbox: purges old `tmp/` files, moves `new/` to `cur/` (`:2,`), lists
    /// `cur/` in Courier's order, and gives each message its size and UIDL from
    /// `courierpop3dsizelist` (new messages get the next UIDs; the list is rewritten when it
    /// changed). `now` is the clock (seconds).
    public func open(now: Int64) throws(OpenError) -> [POP3Message] {
        try openListing(now: now).messages
    }

    /// What one reading of `cur/` and the size list gave.
    struct ScanPass: Sendable {
        var messages: [POP3Message] = []
        var list: POP3SizeList
        /// The list must be written back (new, vanished or renamed messages, or an old version).
        var changed: Bool
        /// `cur/`'s stamp before it was read.
        var curStamp: POP3OpenCache.Stamp?
        /// The size list on disk this pass agrees with (the one it read, if not replaced meanwhile).
        var listKnown: POP3OpenCache.Stamp?
        /// Messages this pass measured, by file name (a second pass need not read them again).
        var measured: [String: POP3MessageMeasure]
        /// Which of `messages` got their UID in this pass.
        var isNew: [Bool] = []
        /// What became of the list, when this pass had to write it.
        var saved: SaveResult?

        /// Courier's recovery when the size list cannot be written (disk full): the new messages
        /// are left out, so that no client keeps a UIDL that the next login would not repeat;
        /// when every message is new, the first one alone is shown, with the UIDL
        /// `ENOMEM-<mtime>-<dev>-<inode>` (16 upper-case hex digits each) that needs no list.
        mutating func recoverFromFailedSave(maildir: String) {
            guard isNew.contains(true) else { return }
            if isNew.contains(false) {
                messages = zip(messages, isNew).filter { !$0.1 }.map(\.0)
                return
            }
            guard var only = messages.first, let st = SystemCall.status(maildir + "/" + only.path) else {
                messages = []
                return
            }
            only.uidl = "ENOMEM-" + Self.hex(UInt64(bitPattern: Int64(st.st_mtim.tv_sec))) + "-"
                + Self.hex(UInt64(st.st_dev)) + "-" + Self.hex(UInt64(st.st_ino))
            messages = [only]
        }

        static func hex(_ value: UInt64) -> String {
            let digits = Array("0123456789ABCDEF".utf8)
            var out = [UInt8](repeating: 0, count: 16)
            var rest = value
            for index in stride(from: 15, through: 0, by: -1) {
                out[index] = digits[Int(rest & 15)]
                rest >>= 4
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The outcome of writing the size list.
    enum SaveResult: Equatable, Sendable {
        /// Written; the stamp of the file (nil when it could not be taken).
        case written(POP3OpenCache.Stamp?)
        case failed
    }

    /// Reads `cur/` and the size list and merges them (spec/access.md §3.3): known messages keep
    /// size and UID, new ones get the next UIDs in Courier's order. `measured` holds messages
    /// already measured by an earlier pass.
    func scan(now: Int64, measured: [String: POP3MessageMeasure]) -> ScanPass {
        let sizeListPath = path + "/" + Self.sizeListName
        let curStamp = POP3OpenCache.Stamp(path + "/cur")
        // Listed while no flag change renames a file in cur/ (readdir racing with rename may
        // return neither name; the message would lose its UID): IMAP's CurDirectoryLock.
        let names = ((try? CurDirectoryLock.withLock(folderPath: path, exclusive: true) { () throws(MaildirError) in
            SystemCall.names(in: path + "/cur")
        }) ?? []).filter { !$0.hasPrefix(".") }
        let listBefore = POP3OpenCache.Stamp(sizeListPath)
        let previous = (try? SystemCall.readFile(sizeListPath, limit: 64 << 20))
            .flatMap { $0 }.flatMap(POP3SizeList.parse)
        let listRead = POP3OpenCache.Stamp(sizeListPath)
        var pass = ScanPass(
            list: POP3SizeList(nextUID: previous?.nextUID ?? 1, uidValidity: previous?.uidValidity ?? UInt64(max(now, 1))),
            changed: previous == nil || previous?.version != POP3SizeList.currentVersion,
            curStamp: curStamp, listKnown: listRead == listBefore ? listRead : nil, measured: measured)
        let oldEntries = previous?.entries ?? []
        var arena = POP3OrderArena(capacity: (names.count + oldEntries.count) * 40)
        let nameKeys = names.map { arena.add($0) }
        let oldKeys = oldEntries.map { arena.add($0.fileName) }
        // The list is saved in this order, so usually only cur/'s names need sorting.
        let nameOrder = arena.sortedIndices(nameKeys)
        let oldOrder = arena.sortedIndices(oldKeys)
        pass.messages.reserveCapacity(names.count)
        pass.list.entries.reserveCapacity(names.count)
        arena.withOrder { less in
            var cursor = 0
            for index in nameOrder {
                let key = nameKeys[index]
                let name = names[index]
                while cursor < oldOrder.count && less(oldKeys[oldOrder[cursor]], key) {
                    cursor += 1
                    pass.changed = true
                }
                var entry: POP3SizeList.Entry
                var isNew = false
                if cursor < oldOrder.count && !less(key, oldKeys[oldOrder[cursor]]) {
                    entry = oldEntries[oldOrder[cursor]]
                    if entry.fileName != name { pass.changed = true }
                    entry.fileName = name
                    cursor += 1
                } else {
                    let measure = pass.measured[name] ?? POP3MessageMeasure(file: path + "/cur/" + name)
                    pass.measured[name] = measure
                    entry = POP3SizeList.Entry(fileName: name, size: measure.size, uid: pass.list.nextUID,
                                               uidValidity: pass.list.uidValidity, utf8: measure.utf8)
                    pass.list.nextUID += 1
                    pass.changed = true
                    isNew = true
                }
                pass.list.entries.append(entry)
                pass.messages.append(POP3Message(path: "cur/" + name, size: entry.size, uidl: entry.uidl, utf8: entry.utf8))
                pass.isNew.append(isNew)
            }
            if cursor < oldOrder.count { pass.changed = true }
        }
        return pass
    }

    /// Writes the list through `tmp/` and a rename, with the stamp of the file written (taken
    /// before the rename, which keeps inode, size and mtime). A failure (disk full) leaves the
    /// old list, and the next login tries again.
    @discardableResult
    func save(_ list: POP3SizeList) -> SaveResult {
        let now = SystemCall.now()
        let temporary = "\(path)/tmp/\(now.seconds).M\(now.microseconds)P\(getpid())_pop3.\(SystemCall.hostName())"
        guard let fd = try? SystemCall.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, mode: 0o644) else {
            return .failed
        }
        var st = stat()
        do throws(MaildirError) {
            try SystemCall.writeAll(fd, list.serialized(), path: temporary)
            try SystemCall.fsync(fd, path: temporary)
        } catch {
            close(fd)
            unlink(temporary)
            return .failed
        }
        let stamped = fstat(fd, &st) == 0
        close(fd)
        guard rename(temporary, path + "/" + Self.sizeListName) == 0 else {
            unlink(temporary)
            return .failed
        }
        return .written(stamped ? POP3OpenCache.Stamp(st) : nil)
    }

    func purgeTmp(now: Int64) {
        for name in SystemCall.names(in: path + "/tmp") {
            let file = path + "/tmp/" + name
            guard let st = SystemCall.linkStatus(file), (st.st_mode & S_IFMT) == S_IFREG,
                  now - Int64(st.st_mtim.tv_sec) > Self.tmpMaxAge else { continue }
            unlink(file)
        }
    }

    /// Moves `new/` into `cur/` under Courier's names (`NewToCur`, shared with IMAP's folder
    /// scan); returns how many files it moved.
    @discardableResult
    func moveNewToCur() -> Int {
        // (The quota lock never fails: without a maildirsize or a lockable maildir it is skipped.)
        ((try? NewToCur.move(folderPath: path, quota: MaildirQuota(folderPath: path))) ?? []).count
    }

    /// True when ``markSeen(_:)`` would rename the file: its name has Maildir flags (`:2,…`)
    /// without `S`. Pure: the server asks before it does any file work.
    public static func needsSeenFlag(_ relativePath: String) -> Bool {
        let name = MessageFileName(String(relativePath.split(separator: "/").last ?? ""))
        guard let flags = name.flags else { return false }
        return !flags.contains(MessageFlags.seen)
    }

    /// RETR marks a message seen: `…:2,<flags>` without S becomes `…:2,<flags>S` (sorted as
    /// Maildir flags are). Returns the new relative path, or nil when nothing was renamed.
    public func markSeen(_ relativePath: String) -> String? {
        guard Self.needsSeenFlag(relativePath) else { return nil }
        let name = MessageFileName(String(relativePath.split(separator: "/").last ?? ""))
        guard relativePath == "cur/" + name.name, let flags = name.flags else { return nil }
        // IMAP's flag change: under the quota lock (a rebuild of maildirsize reads cur/ too)
        // and a shared CurDirectoryLock, so no scan of cur/ reads the directory mid-rename.
        guard let renamed = try? Maildir(path: path).setFlags(folder: nil, fileName: name,
                                                               flags: flags.inserting(MessageFlags.seen)) else { return nil }
        return "cur/" + renamed.name
    }

    /// The UPDATE state: unlinks `relativePaths` and takes them off the quota with one
    /// `maildirsize` line (spec/access.md §3.4). Returns the files actually removed.
    @discardableResult
    public func delete(_ relativePaths: [String]) -> [String] {
        let quota = MaildirQuota(folderPath: path)
        var removed: [String] = []
        // Under the quota lock, as IMAP's expunge: a rebuild of maildirsize sees the files
        // either before the unlinks and the delta line or after both.
        let unlinkAll = { () throws(MaildirError) -> Void in
            var bytes: Int64 = 0
            var count: Int64 = 0
            for relative in relativePaths {
                let file = path + "/" + relative
                let name = MessageFileName(String(relative.split(separator: "/").last ?? ""))
                var size: Int64 = 0
                if name.countsTowardQuota {
                    size = name.sizeHint ?? SystemCall.status(file).map { Int64($0.st_size) } ?? 0
                }
                guard unlink(file) == 0 else { continue }
                removed.append(relative)
                if name.countsTowardQuota {
                    bytes += size
                    count += 1
                }
            }
            if count > 0 {
                try? quota.add(QuotaUsage(bytes: -bytes, messages: -count))
            }
        }
        try? quota.withLock(unlinkAll)
        return removed
    }
}
