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

    /// ``open(now:)`` as a listing that sessions may share (see `POP3Listing`): while the
    /// maildrop is unchanged, every login gets the same one from `POP3OpenCache`.
    public func openListing(now: Int64) throws(OpenError) -> POP3Listing {
        guard SystemCall.isDirectory(path + "/cur") else { throw .noCurDirectory }
        purgeTmp(now: now)
        let moved = moveNewToCur()
        let sizeListPath = path + "/" + Self.sizeListName
        let clock = Int(SystemCall.now().seconds)
        let curStamp = POP3OpenCache.Stamp(path + "/cur")
        let listBefore = POP3OpenCache.Stamp(sizeListPath)
        if moved == 0, let curStamp, let listBefore,
           let cached = POP3OpenCache.shared.lookup(path, cur: curStamp, sizeList: listBefore) {
            return cached
        }
        let names = SystemCall.names(in: path + "/cur").filter { !$0.hasPrefix(".") }
        let previous = (try? SystemCall.readFile(path + "/" + Self.sizeListName, limit: 64 << 20))
            .flatMap { $0 }.flatMap(POP3SizeList.parse)
        // The size list on disk that this listing agrees with: the one just read, if it was not
        // replaced meanwhile, or the one saved below.
        let listRead = POP3OpenCache.Stamp(sizeListPath)
        var listKnown = listRead == listBefore ? listRead : nil
        var list = POP3SizeList(nextUID: previous?.nextUID ?? 1, uidValidity: previous?.uidValidity ?? UInt64(max(now, 1)))
        var changed = previous == nil || previous?.version != POP3SizeList.currentVersion
        let oldEntries = previous?.entries ?? []
        var arena = POP3OrderArena(capacity: (names.count + oldEntries.count) * 40)
        let nameKeys = names.map { arena.add($0) }
        let oldKeys = oldEntries.map { arena.add($0.fileName) }
        // The list is saved in this order, so usually only cur/'s names need sorting.
        let nameOrder = arena.sortedIndices(nameKeys)
        let oldOrder = arena.sortedIndices(oldKeys)
        var messages: [POP3Message] = []
        messages.reserveCapacity(names.count)
        list.entries.reserveCapacity(names.count)
        arena.withOrder { less in
            var cursor = 0
            for index in nameOrder {
                let key = nameKeys[index]
                let name = names[index]
                while cursor < oldOrder.count && less(oldKeys[oldOrder[cursor]], key) {
                    cursor += 1
                    changed = true
                }
                var entry: POP3SizeList.Entry
                if cursor < oldOrder.count && !less(key, oldKeys[oldOrder[cursor]]) {
                    entry = oldEntries[oldOrder[cursor]]
                    if entry.fileName != name { changed = true }
                    entry.fileName = name
                    cursor += 1
                } else {
                    entry = POP3SizeList.Entry(fileName: name, size: Self.wireSize(path + "/cur/" + name),
                                               uid: list.nextUID, uidValidity: list.uidValidity)
                    list.nextUID += 1
                    changed = true
                }
                list.entries.append(entry)
                messages.append(POP3Message(path: "cur/" + name, size: entry.size, uidl: entry.uidl))
            }
            if cursor < oldOrder.count { changed = true }
        }
        if changed && !messages.isEmpty { listKnown = save(list) }
        // Remember the listing only when nothing moved into cur/ while we read it, and the size
        // list on disk is still the one it agrees with.
        let listing = POP3Listing(messages: messages)
        let curAfter = POP3OpenCache.Stamp(path + "/cur")
        let listNow = POP3OpenCache.Stamp(sizeListPath)
        POP3OpenCache.shared.store(path, cur: curAfter == curStamp ? curAfter : nil,
                                   sizeList: listNow == listKnown ? listNow : nil, listing: listing, now: clock)
        return listing
    }

    /// Writes the list through `tmp/` and a rename. Returns the stamp of the file written
    /// (taken before the rename, which keeps inode, size and mtime), or nil when it failed: a
    /// failure (disk full) leaves the old list, and the next login tries again.
    @discardableResult
    func save(_ list: POP3SizeList) -> POP3OpenCache.Stamp? {
        let now = SystemCall.now()
        let temporary = "\(path)/tmp/\(now.seconds).M\(now.microseconds)P\(getpid())_pop3.\(SystemCall.hostName())"
        guard let fd = try? SystemCall.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, mode: 0o644) else {
            return nil
        }
        var st = stat()
        do throws(MaildirError) {
            try SystemCall.writeAll(fd, list.serialized(), path: temporary)
            try SystemCall.fsync(fd, path: temporary)
        } catch {
            close(fd)
            unlink(temporary)
            return nil
        }
        let stamped = fstat(fd, &st) == 0
        close(fd)
        guard rename(temporary, path + "/" + Self.sizeListName) == 0 else {
            unlink(temporary)
            return nil
        }
        return stamped ? POP3OpenCache.Stamp(st) : nil
    }

    /// The POP3 size of a file, read in chunks.
    static func wireSize(_ file: String) -> Int64 {
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var counter = POP3MessageEncoder.SizeCounter()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            counter.add(buffer[0..<n])
        }
        return counter.total
    }

    private func purgeTmp(now: Int64) {
        for name in SystemCall.names(in: path + "/tmp") {
            let file = path + "/tmp/" + name
            guard let st = SystemCall.linkStatus(file), (st.st_mode & S_IFMT) == S_IFREG,
                  now - Int64(st.st_mtim.tv_sec) > Self.tmpMaxAge else { continue }
            unlink(file)
        }
    }

    /// Moves `new/` into `cur/`; returns how many files it tried to move.
    @discardableResult
    private func moveNewToCur() -> Int {
        var count = 0
        for name in SystemCall.names(in: path + "/new") where !name.hasPrefix(".") {
            let target = name.contains(":") ? name : name + ":2,"
            rename(path + "/new/" + name, path + "/cur/" + target)
            count += 1
        }
        return count
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
        guard let flags = name.flags else { return nil }
        let updated = flags.inserting(MessageFlags.seen)
        let newPath = "cur/" + name.withFlags(updated).name
        guard rename(path + "/" + relativePath, path + "/" + newPath) == 0 else { return nil }
        return newPath
    }

    /// The UPDATE state: unlinks `relativePaths` and takes them off the quota with one
    /// `maildirsize` line (spec/access.md §3.4). Returns the files actually removed.
    @discardableResult
    public func delete(_ relativePaths: [String]) -> [String] {
        var removed: [String] = []
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
            try? MaildirQuota(folderPath: path).add(QuotaUsage(bytes: -bytes, messages: -count))
        }
        return removed
    }
}
