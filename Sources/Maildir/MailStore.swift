#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore
import NIOPosix

/// One user's Maildir++ as the access servers (IMAP, POP3, webmail) see it: folders,
/// subscriptions, quota, and `open` for a mailbox view. Every method is async and does its
/// blocking file-system work on a thread pool (NIOThreadPool), never on the caller's event loop.
///
/// All state lives in the file system, shared with Courier's own programs (imapd, maildrop,
/// deliverquota): the store keeps nothing that another process could contradict.
public final class MailStore: Sendable {
    /// The Maildir (its top directory is INBOX).
    public let maildir: Maildir
    let executor: StoreExecutor

    /// A store for the maildir at `root`. `trashFolderName` is IMAP_TRASHFOLDERNAME.
    /// `threadPool` defaults to NIO's shared pool.
    public init(root: String, trashFolderName: String = "Trash", threadPool: NIOThreadPool = .singleton) {
        self.maildir = Maildir(path: root, trashFolderName: trashFolderName)
        self.executor = StoreExecutor(pool: threadPool)
    }

    /// The directory of a mailbox.
    public func path(of mailbox: MailboxName) -> String { maildir.directory(of: mailbox.folder) }

    // MARK: folders

    /// Every mailbox, INBOX first, then folders by name, with the hierarchy nodes that have
    /// children but no directory (`\Noselect`, access.md §1.3) and subscription state.
    public func list() async throws(MailStoreError) -> [FolderEntry] {
        let maildir = self.maildir
        return try await executor.run { () throws(MailStoreError) in
            let folders = maildir.folders()
            let subscribed = Set((try? Subscriptions(maildir: maildir).names()) ?? [])
            return Self.listing(folders: folders, subscribed: subscribed, trashFolderName: maildir.trashFolderName)
        }
    }

    /// Builds the listing from the folder directories (pure; unit-tested).
    static func listing(folders: [FolderName], subscribed: Set<String>, trashFolderName: String) -> [FolderEntry] {
        let existing = Set(folders)
        var all = existing
        for f in folders {
            var p = f.parent
            while let parent = p { all.insert(parent); p = parent.parent }
        }
        var parents = Set<FolderName>()
        for f in all { if let p = f.parent { parents.insert(p) } }
        var result = [FolderEntry(name: .inbox, isPlaceholder: false, hasChildren: !all.isEmpty, specialUse: nil,
                                  isSubscribed: subscribed.contains("INBOX"))]
        for f in all.sorted() {
            var use: SpecialUse?
            if f.parent == nil {
                if f.name == trashFolderName { use = .trash } else if f.name == "Sent" { use = .sent } else if f.name == "Drafts" { use = .drafts }
            }
            result.append(FolderEntry(name: .folder(f), isPlaceholder: !existing.contains(f), hasChildren: parents.contains(f),
                                      specialUse: use, isSubscribed: subscribed.contains(f.imapName(utf8: true))))
        }
        return result
    }

    /// True if the mailbox exists (INBOX always does when the maildir does).
    public func exists(_ mailbox: MailboxName) async throws(MailStoreError) -> Bool {
        let path = self.path(of: mailbox)
        return try await executor.run { () throws(MailStoreError) in SystemCall.isDirectory(path + "/cur") }
    }

    /// Creates a folder (`.Name` with `maildirfolder`); only that one, not its parents, as
    /// Courier does. INBOX cannot be created.
    public func create(_ mailbox: MailboxName) async throws(MailStoreError) {
        guard let folder = mailbox.folder else { throw .mailboxExists("INBOX") }
        let maildir = self.maildir
        try await executor.run { () throws(MailStoreError) in
            try MailStoreError.wrap { () throws(MaildirError) in try maildir.createFolder(folder) }
        }
    }

    /// Renames a folder and every folder below it. INBOX cannot be renamed here (RFC 3501's
    /// INBOX rename moves messages; Courier refuses it).
    public func rename(_ from: MailboxName, to: MailboxName) async throws(MailStoreError) {
        guard let source = from.folder else { throw .invalidName("INBOX") }
        guard let target = to.folder else { throw .mailboxExists("INBOX") }
        let maildir = self.maildir
        try await executor.run { () throws(MailStoreError) in
            do throws(MaildirError) {
                try maildir.renameFolder(source, to: target)
            } catch .notFound {
                throw MailStoreError.mailboxNotFound(from.imapName(utf8: true))
            } catch {
                throw MailStoreError(error)
            }
        }
    }

    /// Deletes a folder's directory (its messages with it); folders below it stay, so the name
    /// remains as a `\Noselect` node if it had children. INBOX cannot be deleted.
    public func delete(_ mailbox: MailboxName) async throws(MailStoreError) {
        guard let folder = mailbox.folder else { throw .invalidName("INBOX") }
        let maildir = self.maildir
        try await executor.run { () throws(MailStoreError) in
            do throws(MaildirError) {
                try maildir.deleteFolder(folder)
            } catch .notFound {
                throw MailStoreError.mailboxNotFound(mailbox.imapName(utf8: true))
            } catch {
                throw MailStoreError(error)
            }
        }
    }

    // MARK: subscriptions (`courierimapsubscribed`, IMAP names in UTF-8, one per line)

    /// The subscribed IMAP names as stored (UTF-8), e.g. `INBOX.Sent`. Names that no longer
    /// exist are kept (RFC 3501 §6.3.6).
    public func subscriptions() async throws(MailStoreError) -> [String] {
        let maildir = self.maildir
        return try await executor.run { () throws(MailStoreError) in
            try MailStoreError.wrap { () throws(MaildirError) in try Subscriptions(maildir: maildir).names() }
        }
    }

    public func subscribe(_ mailbox: MailboxName) async throws(MailStoreError) {
        let maildir = self.maildir, name = mailbox.imapName(utf8: true)
        try await executor.run { () throws(MailStoreError) in
            try MailStoreError.wrap { () throws(MaildirError) in try Subscriptions(maildir: maildir).subscribe(name) }
        }
    }

    public func unsubscribe(_ mailbox: MailboxName) async throws(MailStoreError) {
        let maildir = self.maildir, name = mailbox.imapName(utf8: true)
        try await executor.run { () throws(MailStoreError) in
            try MailStoreError.wrap { () throws(MaildirError) in try Subscriptions(maildir: maildir).unsubscribe(name) }
        }
    }

    // MARK: mailboxes

    /// Opens a mailbox view: scans it as Courier-IMAP's SELECT does (moves `new/` to `cur/`,
    /// assigns UIDs, writes `courierimapuiddb`), or with `readOnly` (EXAMINE) leaves everything
    /// on disk as it is.
    public func open(_ mailbox: MailboxName, readOnly: Bool = false) async throws(MailStoreError) -> Mailbox {
        let view = Mailbox(store: self, name: mailbox, readOnly: readOnly)
        try await view.load()
        return view
    }

    /// STATUS counters from a read-only scan (nothing is written; a mailbox never opened reports
    /// a provisional UIDVALIDITY, as Courier does).
    public func status(_ mailbox: MailboxName) async throws(MailStoreError) -> MailboxStatus {
        let path = self.path(of: mailbox), trash = maildir.trashFolderName
        return try await executor.run { () throws(MailStoreError) in
            guard SystemCall.isDirectory(path + "/cur") else { throw MailStoreError.mailboxNotFound(mailbox.imapName(utf8: true)) }
            let s = try MailStoreError.wrap { () throws(MaildirError) in
                try FolderScanner(folderPath: path, trashFolderName: trash).scan(readOnly: true)
            }
            let unseen = s.messages.filter { !($0.fileName.flags?.isSeen ?? false) }.count + s.leftInNew
            let recent = s.messages.filter(\.isRecent).count + s.leftInNew
            return MailboxStatus(messages: s.messages.count + s.leftInNew, recent: recent, unseen: unseen,
                                 uidNext: s.nextUID, uidValidity: s.uidValidity)
        }
    }

    /// Appends a message to a mailbox (IMAP APPEND, RFC 3502 UIDPLUS): written to `tmp/`,
    /// fsynced, linked into `cur/` with `flags`, the directory fsynced, all under the folder lock
    /// so the UID is known at once. `internalDate` (seconds) becomes the file's mtime; CRLF line
    /// ends are stored as LF unless `convertLineEnds` is false. Keywords go to
    /// `courierimapkeywords/`. Returns (UIDVALIDITY, UID). Over quota: `.quotaExceeded`;
    /// disk full: `.storage` with `isOutOfSpace` (nothing is left behind either way).
    public func append(to mailbox: MailboxName, message: [UInt8], flags: SystemFlags = [], keywords: [String] = [],
                       internalDate: Int64? = nil, convertLineEnds: Bool = true) async throws(MailStoreError)
        -> (uidValidity: UInt32, uid: UInt32) {
        for k in keywords where !KeywordList.isValidKeyword(k) { throw .invalidKeyword(k) }
        let path = self.path(of: mailbox), trash = maildir.trashFolderName
        return try await executor.run { () throws(MailStoreError) in
            guard SystemCall.isDirectory(path + "/cur") else { throw MailStoreError.mailboxNotFound(mailbox.imapName(utf8: true)) }
            let bytes = convertLineEnds ? MailboxScan.toLF(message) : message
            let pending = try MailStoreError.wrap { () throws(MaildirError) in
                let p = try PendingMessage(folderPath: path, uniq: "0")
                do throws(MaildirError) { try p.write(bytes) } catch { p.abort(); throw error }
                return p
            }
            if let internalDate { Self.setModificationTime(pending.temporaryPath, internalDate) }
            let result = try MailStoreError.wrap { () throws(MaildirError) in
                try FolderScanner(folderPath: path, trashFolderName: trash)
                    .scan(adding: [(pending, flags.applied(to: MessageFlags()))])
            }
            guard let uid = result.addedUIDs.first,
                  let added = result.messages.first(where: { $0.uid == uid }) else {
                throw MailStoreError.storage(.notFound(path + "/cur"))
            }
            if !keywords.isEmpty {
                try MailStoreError.wrap { () throws(MaildirError) in
                    try KeywordStore(folderPath: path).update(baseName: added.fileName.baseName, keywords: keywords)
                }
            }
            return (result.uidValidity, uid)
        }
    }

    static func setModificationTime(_ path: String, _ seconds: Int64) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    // MARK: quota

    /// The quota limits and usage from `maildirsize` (recalculated when the file is stale or
    /// damaged, access.md §1.9); nil when the maildir has no quota.
    public func quota() async throws(MailStoreError) -> QuotaStatus? {
        let q = maildir.quota
        return try await executor.run { () throws(MailStoreError) in
            guard let (file, _) = q.read() else { return nil }
            if file.quota.isUnlimited && !file.needsRecalculation { return QuotaStatus(limit: file.quota, usage: file.usage) }
            if file.needsRecalculation {
                let usage = try MailStoreError.wrap { () throws(MaildirError) in
                    try q.withLock { () throws(MaildirError) in try q.recalculate(quota: file.quota) }
                }
                return QuotaStatus(limit: file.quota, usage: usage)
            }
            return QuotaStatus(limit: file.quota, usage: file.usage)
        }
    }
}
