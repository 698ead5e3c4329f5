import Maildir
import Synchronization

/// A folder's message list as SELECT builds it from the store's snapshot (UIDs, file names,
/// flags, keywords, sizes, dates), immutable and shared by every session of the process that
/// selects the same folder while its directory stamps are unchanged.
///
/// A session's `Selected.messages` starts as this array; Swift arrays are copy-on-write, so
/// the sessions share one buffer until one of them changes its own view (a refresh that finds
/// new flags, an EXPUNGE, new mail), and only that session gets a private copy. What each
/// session sees of the others' changes is therefore exactly what its own refresh finds, as
/// when every session built its own array.
final class SharedMessageList: Sendable {
    let uidValidity: UInt32
    let uidNext: UInt32
    let messages: [MailboxSession.Message]
    /// Facts SELECT reports, computed once per list instead of per session.
    let keywordsInUse: Set<String>
    let recentCount: Int
    /// Index of the first message without `\Seen`.
    let firstUnseen: Int?
    /// The folder's HIGHESTMODSEQ when the list was made (RFC 7162; the messages carry theirs).
    let highestModSeq: UInt64

    init(uidValidity: UInt32, uidNext: UInt32, messages: [MailboxSession.Message], highestModSeq: UInt64 = 0) {
        self.highestModSeq = highestModSeq
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.messages = messages
        var inUse = Set<String>()
        var recent = 0
        for m in messages {
            if !m.keywords.isEmpty { inUse.formUnion(m.keywords) }
            if m.recent { recent += 1 }
        }
        keywordsInUse = inUse
        recentCount = recent
        firstUnseen = messages.firstIndex { !$0.isSeen }
    }
}

/// The process's shared message lists, one per folder, each valid for the directory stamps it
/// was built under. A lookup is one lock and a dictionary probe; a stale entry is replaced by
/// the next SELECT that builds one. Bounded by folders and by messages held.
final class SharedMessageLists: Sendable {
    struct Entry {
        var stamps: FolderIndex.Stamps
        var keywords: Bool
        var list: SharedMessageList
    }

    struct Table {
        var entries: [String: Entry] = [:]
        var messageCount = 0
    }

    static let shared = SharedMessageLists()
    /// At most this many folders, and this many messages over all of them (about 150 bytes
    /// each), are kept; past either the table starts again.
    static let folderLimit = 256
    static let messageLimit = 2_000_000
    private let table = Mutex(Table())

    /// The list for `folder` when it was built under `stamps` with the same keyword setting.
    func get(folder: String, stamps: FolderIndex.Stamps, keywords: Bool) -> SharedMessageList? {
        table.withLock { t in
            guard let e = t.entries[folder], e.stamps == stamps, e.keywords == keywords else { return nil }
            return e.list
        }
    }

    func put(folder: String, stamps: FolderIndex.Stamps, keywords: Bool, _ list: SharedMessageList) {
        table.withLock { t in
            if let old = t.entries[folder] { t.messageCount -= old.list.messages.count }
            if t.entries[folder] == nil && t.entries.count >= Self.folderLimit
                || t.messageCount + list.messages.count > Self.messageLimit {
                t = Table()
            }
            t.entries[folder] = Entry(stamps: stamps, keywords: keywords, list: list)
            t.messageCount += list.messages.count
        }
    }
}
