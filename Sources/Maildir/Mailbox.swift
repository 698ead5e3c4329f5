#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// A source UID and the UID its copy got in the target mailbox (RFC 4315 COPYUID).
public struct UIDPair: Hashable, Sendable {
    public var source: UInt32
    public var destination: UInt32
}

/// The result of a copy or move: the target's UIDVALIDITY and the UID pairs, in source order.
/// Messages that vanished before they could be copied are left out.
public struct CopyResult: Hashable, Sendable {
    public var uidValidity: UInt32
    public var pairs: [UIDPair]
}

/// An open mailbox (one IMAP session's SELECT/EXAMINE, or a POP3 session): a snapshot of the
/// messages in UID order that changes only when the owner asks (`refresh`, `expunge`, `move`,
/// `setFlags`), so a server can report changes to its client in protocol order.
///
/// Calls on one `Mailbox` are meant to be made one after another (one session); the actor keeps
/// them safe regardless, and all file work runs on the store's thread pool.
public actor Mailbox {
    public nonisolated let store: MailStore
    public nonisolated let name: MailboxName
    public nonisolated let readOnly: Bool
    /// The directory of the mailbox.
    public nonisolated let path: String

    /// The messages as last reported.
    public private(set) var snapshot = MailboxSnapshot(uidValidity: 0, uidNext: 1, messages: [])
    /// UIDs this session saw first (`\Recent`, RFC 3501 §2.3.2).
    public private(set) var recentUIDs = Set<UInt32>()
    private var facts: [String: MessageFacts] = [:]
    /// Parsed summaries by base name (a message's bytes never change under its base name).
    var summaries: [String: MessageSummary] = [:]
    /// Record offsets in `courierswiftsummaries`, loaded on the first `summary` call.
    var summaryOffsets: [String: Int64]?
    /// The folder's stamps before the last scan (the refresh fast path).
    private var stamps: DirectoryStamps?

    init(store: MailStore, name: MailboxName, readOnly: Bool) {
        self.store = store
        self.name = name
        self.readOnly = readOnly
        self.path = store.path(of: name)
    }

    private var scanner: MailboxScan { MailboxScan(folderPath: path, trashFolderName: store.maildir.trashFolderName) }

    func load() async throws(MailStoreError) {
        let scan = scanner, readOnly = self.readOnly, facts = self.facts, path = self.path, name = self.name
        let previous = stamps.map { ($0, snapshot) }
        let result = try await store.executor.run { () throws(MailStoreError) in
            guard SystemCall.isDirectory(path + "/cur") else { throw MailStoreError.mailboxNotFound(name.imapName(utf8: true)) }
            return try scan.scan(readOnly: readOnly, facts: facts, previous: previous)
        }
        snapshot = result.snapshot
        stamps = result.stamps
        self.facts = result.facts
        recentUIDs.formUnion(result.recent)
        recentUIDs.formIntersection(snapshot.messages.map(\.uid))
    }

    /// Rescans (new mail, flags and expunges by other processes) and returns what changed
    /// since the last snapshot; the snapshot becomes the new state.
    @discardableResult
    public func refresh() async throws(MailStoreError) -> MailboxChanges {
        let old = snapshot
        try await load()
        return MailboxChanges.between(old, snapshot)
    }

    /// True if this session saw the message first (`\Recent`).
    public func isRecent(_ uid: UInt32) -> Bool { recentUIDs.contains(uid) }

    // MARK: flags

    /// Changes system flags and (when `keywords` is given) keywords of the messages with these
    /// UIDs, as IMAP STORE does: `.replace` sets exactly these, `.add`/`.remove` add or take
    /// them away. Flags are a rename of the file in `cur/` (Courier's way); keywords go to
    /// `courierimapkeywords/`. Messages that another process expunged meanwhile are skipped.
    /// Returns the updated messages (for the untagged FETCH FLAGS answers).
    @discardableResult
    public func setFlags(uids: [UInt32], flags: SystemFlags, keywords: [String]? = nil,
                         operation: FlagOperation) async throws(MailStoreError) -> [MessageInfo] {
        if readOnly { throw .readOnly }
        if let keywords { for k in keywords where !KeywordList.isValidKeyword(k) { throw .invalidKeyword(k) } }
        let targets = uids.compactMap { snapshot.message(uid: $0) }
        let maildir = store.maildir, folder = name.folder, path = self.path
        let updated = try await store.executor.run { () throws(MailStoreError) -> [MessageInfo] in
            var out: [MessageInfo] = []
            let kwStore = KeywordStore(folderPath: path)
            for var m in targets {
                let newFlags: SystemFlags
                switch operation {
                case .replace: newFlags = flags
                case .add: newFlags = m.flags.union(flags)
                case .remove: newFlags = m.flags.subtracting(flags)
                }
                var current = MessageFileName(m.fileName)
                let letters = newFlags.applied(to: current.flags ?? MessageFlags())
                var renamed: MessageFileName?
                for _ in 0..<2 {
                    do throws(MaildirError) {
                        renamed = try maildir.setFlags(folder: folder, fileName: current, flags: letters)
                        break
                    } catch .notFound {
                        // Another session renamed it: find its current name and try again.
                        guard let now = Self.currentName(path: path, baseName: m.baseName) else { break }
                        current = now
                    } catch {
                        throw MailStoreError(error)
                    }
                }
                guard let renamed else { continue }
                m.fileName = renamed.name
                m.flags = SystemFlags(renamed.flags ?? MessageFlags())
                if let keywords {
                    let next: [String]
                    switch operation {
                    case .replace: next = keywords
                    case .add: next = m.keywords + keywords
                    case .remove:
                        let gone = Set(keywords.map { $0.lowercased() })
                        next = m.keywords.filter { !gone.contains($0.lowercased()) }
                    }
                    let normalized = KeywordList.normalized(next)
                    if normalized != m.keywords {
                        try MailStoreError.wrap { () throws(MaildirError) in
                            try kwStore.update(baseName: m.baseName, keywords: normalized)
                        }
                        m.keywords = normalized
                    }
                }
                out.append(m)
            }
            return out
        }
        for m in updated {
            if let i = snapshot.index(ofUID: m.uid) { snapshot.messages[i] = m }
        }
        return updated
    }

    /// The current name in `cur/` of a message with this base name (after another process
    /// changed its flags), nil if it is gone.
    static func currentName(path: String, baseName: String) -> MessageFileName? {
        for name in SystemCall.names(in: path + "/cur") where MessageFileName.baseName(of: name) == baseName {
            return MessageFileName(name)
        }
        return nil
    }

    // MARK: expunge

    /// Removes the messages flagged `\Deleted` (only those in `uids` if given: UID EXPUNGE,
    /// RFC 4315) and returns their UIDs, ascending; they leave the snapshot. The quota is
    /// credited (`-size -1`) as Courier does.
    public func expunge(uids: [UInt32]? = nil) async throws(MailStoreError) -> [UInt32] {
        if readOnly { throw .readOnly }
        let limit = uids.map(Set.init)
        let doomed = snapshot.messages.filter { $0.flags.contains(.deleted) && (limit?.contains($0.uid) ?? true) }
        let gone = try await remove(doomed)
        return gone
    }

    /// Unlinks the files of these messages; returns the UIDs removed (or already gone).
    private func remove(_ messages: [MessageInfo]) async throws(MailStoreError) -> [UInt32] {
        let maildir = store.maildir, folder = name.folder, path = self.path
        let removed = try await store.executor.run { () throws(MailStoreError) -> [UInt32] in
            var out: [UInt32] = []
            for m in messages {
                var current = MessageFileName(m.fileName)
                for _ in 0..<2 {
                    do throws(MaildirError) {
                        try maildir.expunge(folder: folder, fileName: current)
                        out.append(m.uid)
                        break
                    } catch .notFound {
                        guard let now = Self.currentName(path: path, baseName: m.baseName) else {
                            out.append(m.uid)   // already expunged by someone else
                            break
                        }
                        current = now
                    } catch {
                        throw MailStoreError(error)
                    }
                }
            }
            return out
        }
        let set = Set(removed)
        snapshot.messages.removeAll { set.contains($0.uid) }
        recentUIDs.subtract(set)
        return removed.sorted()
    }

    // MARK: copy and move

    /// Copies messages into another mailbox (IMAP COPY; flags and keywords kept, internal date
    /// kept), committed under the target's folder lock so the new UIDs are known (COPYUID).
    public func copy(uids: [UInt32], to target: MailboxName) async throws(MailStoreError) -> CopyResult {
        let sources = uids.compactMap { snapshot.message(uid: $0) }
        let targetPath = store.path(of: target), path = self.path, trash = store.maildir.trashFolderName
        return try await store.executor.run { () throws(MailStoreError) -> CopyResult in
            guard SystemCall.isDirectory(targetPath + "/cur") else {
                throw MailStoreError.mailboxNotFound(target.imapName(utf8: true))
            }
            var adding: [(PendingMessage, MessageFlags)] = []
            var copied: [MessageInfo] = []
            for m in sources {
                guard let pending = try Self.copyFile(of: m, from: path, to: targetPath) else { continue }
                adding.append((pending, m.flags.applied(to: MessageFlags())))
                copied.append(m)
            }
            if adding.isEmpty {
                let s = try MailStoreError.wrap { () throws(MaildirError) in
                    try FolderScanner(folderPath: targetPath, trashFolderName: trash).scan(readOnly: true)
                }
                return CopyResult(uidValidity: s.uidValidity, pairs: [])
            }
            let result = try MailStoreError.wrap { () throws(MaildirError) in
                try FolderScanner(folderPath: targetPath, trashFolderName: trash).scan(adding: adding)
            }
            var pairs: [UIDPair] = []
            var bases: [UInt32: String] = [:]
            for s in result.messages { bases[s.uid] = s.fileName.baseName }
            let kwStore = KeywordStore(folderPath: targetPath)
            for (m, uid) in zip(copied, result.addedUIDs) {
                pairs.append(UIDPair(source: m.uid, destination: uid))
                if !m.keywords.isEmpty, let base = bases[uid] {
                    try MailStoreError.wrap { () throws(MaildirError) in try kwStore.update(baseName: base, keywords: m.keywords) }
                }
            }
            return CopyResult(uidValidity: result.uidValidity, pairs: pairs)
        }
    }

    /// Moves messages (RFC 6851 MOVE): copies them, then removes the originals. Returns the
    /// copy result and the UIDs expunged here (for the untagged EXPUNGE answers).
    public func move(uids: [UInt32], to target: MailboxName) async throws(MailStoreError)
        -> (copy: CopyResult, expunged: [UInt32]) {
        if readOnly { throw .readOnly }
        let result = try await copy(uids: uids, to: target)
        let moved = Set(result.pairs.map(\.source))
        let gone = try await remove(snapshot.messages.filter { moved.contains($0.uid) })
        return (result, gone)
    }

    /// Writes a copy of a message's file into `target/tmp` (chunked), with the same mtime; nil
    /// if the message vanished.
    static func copyFile(of m: MessageInfo, from path: String, to target: String) throws(MailStoreError) -> PendingMessage? {
        var fd = MessageFileAccess.open(path + "/cur/" + m.fileName)
        if fd < 0, errno == ENOENT, let now = currentName(path: path, baseName: m.baseName) {
            fd = MessageFileAccess.open(path + "/cur/" + now.name)
        }
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw MailStoreError.storage(MaildirError.system(operation: "open", path: path + "/cur/" + m.fileName, errno: errno))
        }
        defer { close(fd) }
        return try MailStoreError.wrap { () throws(MaildirError) -> PendingMessage in
            let pending = try PendingMessage(folderPath: target, uniq: "0")
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 {
                    let e = MaildirError.system(operation: "read", path: path + "/cur/" + m.fileName, errno: errno)
                    pending.abort()
                    throw e
                }
                if n == 0 { break }
                do throws(MaildirError) {
                    try pending.write(Array(buffer[0..<n]))
                } catch {
                    pending.abort()
                    throw error
                }
            }
            MailStore.setModificationTime(pending.temporaryPath, m.internalDate)
            return pending
        }
    }

    // MARK: message bytes

    /// Opens a message's file for chunked reading (the bytes as stored: LF line ends). The
    /// open file stays readable while other sessions rename it (flag changes).
    public func openMessage(uid: UInt32) async throws(MailStoreError) -> MessageReader {
        guard let m = snapshot.message(uid: uid) else { throw .noSuchMessage(uid) }
        let path = self.path, executor = store.executor
        return try await executor.run { () throws(MailStoreError) -> MessageReader in
            var fd = MessageFileAccess.open(path + "/cur/" + m.fileName)
            if fd < 0, errno == ENOENT, let now = Self.currentName(path: path, baseName: m.baseName) {
                fd = MessageFileAccess.open(path + "/cur/" + now.name)
            }
            if fd < 0 {
                if errno == ENOENT { throw MailStoreError.noSuchMessage(uid) }
                throw MailStoreError.storage(MaildirError.system(operation: "open", path: path + "/cur/" + m.fileName, errno: errno))
            }
            var st = stat()
            fstat(fd, &st)
            return MessageReader(fd: fd, size: Int64(st.st_size), executor: executor)
        }
    }
}
