import MaildirCore
import Synchronization

/// Synchronous access to a folder's persistent caches, for a server that already runs its
/// file work off the event loop (the IMAP server's `MailboxSession` runs each command on NIO's
/// thread pool) and so cannot await the `Mailbox` actor.
public enum FolderIndex {
    /// The open behind SELECT/EXAMINE: the same scan as `MailStore.open` (Courier's uid scan,
    /// keywords, sizes and dates from `courierswiftindex`), skipped entirely when the folder's
    /// stamps equal those saved in `courierswiftsnapshot` and are settled (a warm open reads
    /// one small file instead of `cur/` and `courierimapuiddb`). `isRecent` is true for the
    /// messages this scan moved out of `new/` (none on a warm open: nothing was there).
    public static func open(folderPath: String, trashFolderName: String, readOnly: Bool) throws(MailStoreError)
        -> MailboxSnapshot {
        // The warm path without building the facts table MailboxScan keeps for refresh.
        if let stamps = DirectoryStamps.read(folderPath), stamps.isSettled(),
           let cached = SnapshotCache(folderPath: folderPath).load(matching: stamps) {
            return cached
        }
        return try MailboxScan(folderPath: folderPath, trashFolderName: trashFolderName)
            .scan(readOnly: readOnly, facts: [:], keepFacts: false).snapshot
    }
}

extension FolderIndex {
    /// The directory stamps that decide whether a folder's saved snapshot is still valid (the
    /// times of `new/`, `cur/`, `courierimapkeywords` and `courierimapuiddb`, and the latter's
    /// inode), for a caller that keeps its own copy of what `open` returned: equal stamps mean
    /// an equal folder.
    public struct Stamps: Hashable, Sendable {
        let value: DirectoryStamps
    }

    /// The folder's stamps when every one of them is settled (more than 2 s old, so a change in
    /// the same clock tick cannot hide behind them); nil when one is younger or missing.
    public static func settledStamps(folderPath: String) -> Stamps? {
        guard let stamps = DirectoryStamps.read(folderPath), stamps.isSettled() else { return nil }
        return Stamps(value: stamps)
    }
}

/// One folder's message summaries (envelope fields, References, MIME structure), shared by
/// every session of the process: found in memory, else in `courierswiftsummaries`, else
/// parsed from the message once and appended there (not by read-only sessions). A summary
/// never goes stale: a message's bytes never change under its base name.
public final class FolderSummaries: Sendable {
    /// At most this many summaries of one folder are kept in memory (about 1 KB each); past
    /// it the memory copy is dropped and summaries come from the file again.
    static let memoryLimit = 50_000
    /// At most this many folders are remembered per process.
    static let folderLimit = 512
    static let registry = Mutex<[String: FolderSummaries]>([:])

    /// The instance of a folder (by its directory path) for this process.
    public static func shared(folderPath: String) -> FolderSummaries {
        registry.withLock { folders in
            if let known = folders[folderPath] { return known }
            if folders.count >= folderLimit { folders.removeAll() }
            let made = FolderSummaries(folderPath: folderPath)
            folders[folderPath] = made
            return made
        }
    }

    struct State {
        var offsets: [String: Int64]?
        /// Boxed: handing one out costs one reference count, not a copy of every field.
        var summaries: [String: StoredSummary] = [:]
    }

    let cache: SummaryCache
    let state = Mutex(State())

    init(folderPath: String) {
        cache = SummaryCache(folderPath: folderPath)
    }

    /// The summary of the message with `baseName`; `file` reads the message as stored (LF
    /// line ends; at most `Mailbox.maximumSummaryBytes` are needed) when no cache has it.
    /// Nil when the message cannot be read.
    public func summary(baseName: String, readOnly: Bool, file: () -> [UInt8]?) -> MessageSummary? {
        stored(baseName: baseName, readOnly: readOnly, file: file)?.summary
    }

    /// `summary`, boxed as the cache keeps it: for a caller that reads a field or two of many
    /// messages (SEARCH FROM over a big folder) without copying each summary out.
    public func stored(baseName: String, readOnly: Bool, file: () -> [UInt8]?) -> StoredSummary? {
        stored(baseName: baseName, readOnly: readOnly, summarize: { file().map(MessageSummary.parse) })
    }

    /// `stored(baseName:readOnly:file:)` with the parse left to the caller (`summarize`: a
    /// large message is summarized from its file in pieces, `MessageSummary.parse(fileDescriptor:)`).
    public func stored(baseName: String, readOnly: Bool, summarize: () -> MessageSummary?) -> StoredSummary? {
        let cache = self.cache
        let (known, offset): (StoredSummary?, Int64?) = state.withLock { s in
            if let known = s.summaries[baseName] { return (known, nil) }
            if s.offsets == nil { s.offsets = cache.loadOffsets() }
            return (nil, s.offsets?[baseName])
        }
        if let known { return known }
        if let offset, let stored = cache.read(at: offset, baseName: baseName) {
            return remember(baseName, stored, offset: nil)
        }
        guard let parsed = summarize() else { return nil }
        return remember(baseName, parsed, offset: readOnly ? nil : cache.append(baseName: baseName, summary: parsed))
    }

    private func remember(_ baseName: String, _ summary: MessageSummary, offset: Int64?) -> StoredSummary {
        let box = StoredSummary(summary)
        state.withLock { s in
            if s.summaries.count >= Self.memoryLimit { s.summaries.removeAll() }
            s.summaries[baseName] = box
            if let offset { s.offsets?[baseName] = offset }
        }
        return box
    }
}

/// One message's summary as `FolderSummaries` keeps it in memory (immutable, shared).
public final class StoredSummary: Sendable {
    public let summary: MessageSummary

    init(_ summary: MessageSummary) {
        self.summary = summary
    }
}
