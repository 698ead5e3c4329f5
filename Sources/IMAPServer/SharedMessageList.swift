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
/// when every session built its own array. After such a refresh the session hands its view
/// to `SharedMessageLists.adopt`, which gives back the folder's current list when that says
/// exactly the same: the sessions go back to one buffer (see `MailboxSession+SharedList`).
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
    /// Some message's RFC822.SIZE is not known yet (-1: a refresh found it, the index did not).
    let hasUnknownSizes: Bool

    init(uidValidity: UInt32, uidNext: UInt32, messages: [MailboxSession.Message], highestModSeq: UInt64 = 0) {
        self.highestModSeq = highestModSeq
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.messages = messages
        var inUse = Set<String>()
        var recent = 0
        var unknownSizes = false
        for m in messages {
            if !m.keywords.isEmpty { inUse.formUnion(m.keywords) }
            if m.recent { recent += 1 }
            if m.size < 0 { unknownSizes = true }
        }
        hasUnknownSizes = unknownSizes
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
        /// The settled stamps the list was opened under; nil for a list a session's refresh
        /// published (it is only offered to other refreshes, never to a SELECT).
        var stamps: FolderIndex.Stamps?
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

    /// Keeps `list` as the folder's list under `stamps` and returns the list to use: when the
    /// folder's current list (opened earlier, or published by a refresh) says exactly the same,
    /// a list with `list`'s facts over that one's array, so that the sessions holding it and
    /// the ones that select now share one buffer.
    @discardableResult
    func put(folder: String, stamps: FolderIndex.Stamps, keywords: Bool, _ list: SharedMessageList) -> SharedMessageList {
        var kept = list
        if let current = latest(folder: folder, keywords: keywords), current.messages.count == list.messages.count,
           !current.hasUnknownSizes || list.hasUnknownSizes,
           MailboxSession.sameView(current.messages, list.messages) {
            kept = SharedMessageList(uidValidity: list.uidValidity, uidNext: list.uidNext, messages: current.messages,
                                     highestModSeq: list.highestModSeq)
        }
        store(Entry(stamps: stamps, keywords: keywords, list: kept), folder: folder)
        return kept
    }

    /// A list an open made while the folder was not settled (no stamps to keep it under): when
    /// the folder's current list says exactly the same, `list`'s facts over that one's array;
    /// else `list` becomes the folder's current list for the refreshes and opens that follow.
    func share(folder: String, keywords: Bool, _ list: SharedMessageList) -> SharedMessageList {
        if let current = latest(folder: folder, keywords: keywords), current.messages.count == list.messages.count,
           !current.hasUnknownSizes || list.hasUnknownSizes,
           MailboxSession.sameView(current.messages, list.messages) {
            return SharedMessageList(uidValidity: list.uidValidity, uidNext: list.uidNext, messages: current.messages,
                                     highestModSeq: list.highestModSeq)
        }
        store(Entry(stamps: nil, keywords: keywords, list: list), folder: folder)
        return list
    }

    /// The folder's current list whatever its stamps (nil: none, or built with the other
    /// keyword setting).
    func latest(folder: String, keywords: Bool) -> SharedMessageList? {
        table.withLock { t in
            guard let e = t.entries[folder], e.keywords == keywords else { return nil }
            return e.list
        }
    }

    /// After a refresh: the folder's current list when it says exactly what `messages` says
    /// (the caller then holds that array instead of its own); else, when `publish` (the view
    /// has no \Recent message and no expunge the session has not reported yet: nothing only
    /// this session may see), `messages` becomes the folder's current list and is returned,
    /// so that the other sessions' refreshes find it. Nil: keep the private view.
    func adopt(folder: String, keywords: Bool, messages: [MailboxSession.Message], uidValidity: UInt32, uidNext: UInt32,
               highestModSeq: UInt64, publish: Bool) -> SharedMessageList? {
        let current = latest(folder: folder, keywords: keywords)
        if let current {
            if MailboxSession.sameStorage(current.messages, messages) { return current }
            if current.messages.count == messages.count, MailboxSession.sameView(current.messages, messages) {
                return current
            }
        }
        guard publish else { return nil }
        var messages = messages
        if let current { MailboxSession.copySizes(from: current.messages, into: &messages) }
        let list = SharedMessageList(uidValidity: uidValidity, uidNext: uidNext, messages: messages,
                                     highestModSeq: highestModSeq)
        store(Entry(stamps: nil, keywords: keywords, list: list), folder: folder)
        return list
    }

    private func store(_ entry: Entry, folder: String) {
        table.withLock { t in
            if let old = t.entries[folder] { t.messageCount -= old.list.messages.count }
            if t.entries[folder] == nil && t.entries.count >= Self.folderLimit
                || t.messageCount + entry.list.messages.count > Self.messageLimit {
                t = Table()
            }
            t.entries[folder] = entry
            t.messageCount += entry.list.messages.count
        }
    }
}
