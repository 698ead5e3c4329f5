#if canImport(Glibc)
import Glibc
#endif
import IMAP
import enum Maildir.FolderIndex
import MaildirCore

/// Courier's per-site mailbox settings (spec/access.md §2.7).
struct MailboxOptions: Sendable {
    /// `IMAP_TRASHFOLDERNAME`.
    var trashFolderName = "Trash"
    /// `IMAP_KEYWORDS` (0 turns keywords off).
    var keywords = true
    /// `IMAP_MOVE_EXPUNGE_TO_TRASH`: EXPUNGE outside Trash moves messages there.
    var moveExpungedToTrash = false
    /// `IMAP_EMPTYTRASH` (default `Trash:7`): folders purged of old messages at login.
    var emptyTrash: [EmptyTrashRule] = [EmptyTrashRule(folder: "Trash", days: 7)]
    /// `IMAP_SHAREDINDEXFILE` (default `etc/shared/index`): the virtual shared folders' index.
    var sharedIndexFile: String?
    /// `IMAP_SHAREDMUNGENAMES`.
    var mungeSharedNames = false
    /// The site's list of sharable maildirs (`etc/maildirshared`), read before each user's own.
    var sharableMaildirsFile: String?
}

/// One logged-in user's view of their Maildir++: the selected folder's message list (sequence
/// numbers ↔ UIDs, flags, keywords) and every mailbox command, on MaildirCore.
///
/// Synchronous file I/O: the connection handler runs each call on NIO's thread pool, one
/// command at a time (never two calls at once on one session), which is what makes the
/// `@unchecked Sendable` sound.
final class MailboxSession: @unchecked Sendable {
    /// A message of the selected folder.
    struct Message {
        var uid: UInt32
        var fileName: MessageFileName { didSet { systemFlags = Self.systemFlags(fileName) } }
        var recent: Bool
        var keywords: [String]
        /// RFC822.SIZE and INTERNALDATE (seconds) from the store's index; -1: not known yet.
        var size: Int64
        var internalDate: Int64
        /// MODSEQ (RFC 7162 §3.1.1) as the folder's `courierswiftmodseq` gave it when this
        /// session last synchronised (`MailboxSession+CondStore`).
        var modSeq: UInt64 = 0
        /// The file name's system flags as bits (`seenBit`…), parsed once: FETCH FLAGS and the
        /// flag SEARCH keys read them per message, and a bit set costs no allocation per message.
        private(set) var systemFlags: UInt8

        /// The same bits as the `Maildir` store's `SystemFlags`, so its snapshot's flags are taken as they are.
        static let answeredBit: UInt8 = 1, flaggedBit: UInt8 = 2, deletedBit: UInt8 = 4, seenBit: UInt8 = 8,
                   draftBit: UInt8 = 16

        /// `systemFlags`: the bits when the caller has them already (the store's snapshot), else
        /// parsed from the file name.
        init(uid: UInt32, fileName: MessageFileName, recent: Bool, keywords: [String], size: Int64 = -1,
             internalDate: Int64 = -1, systemFlags: UInt8? = nil) {
            self.uid = uid
            self.fileName = fileName
            self.recent = recent
            self.keywords = keywords
            self.size = size
            self.internalDate = internalDate
            self.systemFlags = systemFlags ?? Self.systemFlags(fileName)
        }

        static func systemFlags(_ name: MessageFileName) -> UInt8 {
            guard let f = name.flags else { return 0 }
            return (f.isDraft ? draftBit : 0) | (f.isReplied ? answeredBit : 0) | (f.isFlagged ? flaggedBit : 0)
                | (f.isTrashed ? deletedBit : 0) | (f.isSeen ? seenBit : 0)
        }

        /// The flag letters of the file name (all of them, unknown ones too), parsed on demand.
        var letters: MessageFlags? { fileName.flags }
        var isSeen: Bool { systemFlags & Self.seenBit != 0 }
        var isDeleted: Bool { systemFlags & Self.deletedBit != 0 }
    }

    /// The selected folder.
    struct Selected {
        var name: MailboxName
        var folder: FolderName?
        var directory: String
        var readOnly: Bool
        var uidValidity: UInt32
        var nextUID: UInt32
        var messages: [Message]
        var keywordsInUse: Set<String>
        /// HIGHESTMODSEQ as far as this session has reported the folder's changes (RFC 7162
        /// §3.1.2.1): expunges it has not announced yet are not counted.
        var highestModSeq: UInt64 = 0
    }

    /// What a command did to the selection, for the session state machine.
    enum SelectionChange {
        case none
        case selected(MailboxName, readOnly: Bool)
        case deselected
    }

    let maildir: Maildir
    let user: String
    let options: MailboxOptions
    /// The account's `OPTIONS` (its `group=` entries name the user's ACL groups).
    var accountOptions = ""
    /// The shared-folder index of this user's universe (nil: no `#shared.` folders).
    var sharedIndex: SharedIndex?
    /// In a session over another account's Maildir: the `#shared.` name of its INBOX.
    var sharedPrefix: String?
    /// The folders' owner when they are not this user's (`vendor=courier.internal`, `user=<group>`).
    var ownerOverride: String?
    /// The other account's session while one of its folders is selected.
    var sharedSelection: MailboxSession?
    /// Rights that replace the ACL files (a `shared.` filesystem shared folder's session).
    var fixedRights: ACLRights?
    var selected: Selected?
    var utf8 = false
    /// The APPEND size limit (IMAPLimits.appendLiteral), for STATUS APPENDLIMIT.
    var appendLiteralLimit = IMAPLimits().appendLiteral
    /// A BINARY fetch of the current FETCH met a transfer encoding it cannot undo (RFC 3516 §4.2).
    var unknownEncodingSeen = false
    /// The current FETCH needed a message file that is gone (another session expunged it).
    var missingMessageSeen = false
    /// IMAP4rev2 is enabled (RFC 9051 §6.3.1): no \Recent, RECENT or UNSEEN code, SEARCH answers ESEARCH.
    var rev2 = false {
        didSet {
            // Enabled with a mailbox already selected: its messages lose \Recent from now on.
            if rev2 && !oldValue, var s = selected, s.messages.contains(where: \.recent) {
                Self.forgetRecent(&s.messages)
                selected = s
            }
        }
    }
    /// CONDSTORE is on for this connection (RFC 7162 §3.1: ENABLE or any enabling command):
    /// every untagged FETCH carries UID and MODSEQ.
    var condStore = false
    /// QRESYNC is ENABLEd (RFC 7162 §3.2.3): VANISHED instead of EXPUNGE.
    var qresync = false
    /// Text of the last ESEARCH SAVE result (RFC 5182), as UIDs.
    var savedResult: [UInt32] = []
    private var cachedView: (uid: UInt32, view: MessageView)?
    /// The large message (`LargeMessage`) last read, open, by UID.
    var largeMessageCache: (uid: UInt32, message: OpenLargeMessage)?
    /// Hands a finished part of a long response to the connection and waits until it is
    /// written (set by the handler, called on the thread pool): a FETCH of many large
    /// messages never piles up in memory. Nil: everything is returned at the end.
    var flushHook: (@Sendable ([UInt8]) -> Void)?
    /// Responses shorter than this go out in one write with the tagged reply.
    static let flushThreshold = 256 << 10

    /// RFC822.SIZE by UID: a message's bytes never change, so each is measured once.
    var sizes: [UInt32: Int] = [:]
    /// Modification times of the selected folder's new/, cur/ and keyword directory at the
    /// last refresh: an IDLE poll that finds them unchanged skips the scan.
    var lastStamp: [Int64] = []
    /// The folder stamps `shareListAgain` last tried to share the list under.
    var sharingTriedFor: FolderIndex.Stamps?
    /// The selected folder's `FolderGenerations` generation this session's view is in step
    /// with (nil: unknown, the next UID command checks the disk).
    var syncedGeneration: FolderGeneration?
    /// The generation under which `shareListAgain` has nothing more to try.
    var sharingTriedGeneration: FolderGeneration?
    /// The last SELECT/EXAMINE answered from the folder as read (see `MailboxSession+EventLoop`).
    var selectMemo: SelectMemo?
    /// Set by `prepareOnEventLoop`: the command runs on the event loop, on what it checked.
    var onEventLoop = false
    /// The message file the event loop read for this command (UID, bytes as stored).
    var preloaded: (uid: UInt32, bytes: [UInt8])?

    init(maildirPath: String, user: String, options: MailboxOptions = MailboxOptions()) {
        maildir = Maildir(path: maildirPath, trashFolderName: options.trashFolderName)
        self.user = user
        self.options = options
    }

    // MARK: names

    /// INBOX or a folder; nil for names outside the user's Maildir (they never escape it:
    /// FolderName refuses `/`, `..` and empty components).
    func target(_ name: MailboxName) -> FolderName.IMAPTarget? {
        guard let full = String(validating: name.bytes, as: UTF8.self), let text = localName(full) else { return nil }
        return try? FolderName.fromIMAP(text, utf8: utf8)
    }

    func directory(_ target: FolderName.IMAPTarget) -> String {
        switch target {
        case .inbox: maildir.path
        case .folder(let f): maildir.directory(of: f)
        }
    }

    func exists(_ target: FolderName.IMAPTarget) -> Bool {
        switch target {
        case .inbox: true
        case .folder(let f): maildir.folderExists(f)
        }
    }

    // MARK: SELECT / EXAMINE (RFC 3501 §6.3.1)

    func select(_ tag: [UInt8], _ name: MailboxName, readOnly: Bool, parameters: SelectParameters = SelectParameters(),
                into w: inout ResponseWriter) -> SelectionChange {
        let wasSelected = selected != nil
        // On the event loop the memo stands for the disk (its folder's generation was current).
        let memo = onEventLoop ? selectMemo : nil
        selected = nil
        cachedView = nil
        largeMessageCache = nil
        sizes = [:]
        syncedGeneration = nil
        guard let target = target(name), memo != nil || exists(target) else {
            if wasSelected { w.untaggedStatus(.ok, .closed, "Previous mailbox closed") }
            w.tagged(tag, .no, .nonExistent, "Mailbox does not exist, or must be subscribed to.")
            return .deselected
        }
        // RFC 4314 §4: SELECT and EXAMINE need `r`; with none of `i e s t w` the folder is read-only.
        let dir = directory(target)
        // Before anything is read: a change from here on shows as a new generation.
        let generation = memo?.generation ?? FolderGenerations.shared?.watch(dir)
        let rights = memo?.rights ?? myRights(target)
        guard rights.contains(ACLRights.read) else {
            accessDenied("SELECT/EXAMINE", Self.shown(name), ACLRights.read, tag, into: &w)
            return .deselected
        }
        let examine = readOnly
        let readOnly = readOnly || Self.selectsReadOnly(rights)
        // The store's open: a warm folder (stamps unchanged since the saved snapshot) is read
        // from `courierswiftsnapshot` without listing cur/ or parsing courierimapuiddb; sizes
        // and dates come from `courierswiftindex`.
        let opened: SharedMessageList
        if let memo {
            lastStamp = memo.lastStamp
            opened = memo.list
        } else {
            lastStamp = Self.settledStamp(dir)
            do {
                opened = try openShared(dir, readOnly: readOnly)
            } catch {
                w.tagged(tag, .no, .serverBug, "Cannot open the mailbox: \(error)")
                return .deselected
            }
        }
        if wasSelected { w.untaggedStatus(.ok, .closed, "Previous mailbox closed") }  // RFC 7162 §3.2.11
        // The shared array: copied only when this session changes its own view of it.
        var messages = opened.messages
        if rev2 && opened.recentCount > 0 { Self.forgetRecent(&messages) }
        let folder: FolderName?
        if case .folder(let f) = target { folder = f } else { folder = nil }
        selected = Selected(name: name, folder: folder, directory: dir, readOnly: readOnly,
                            uidValidity: opened.uidValidity, nextUID: opened.uidNext, messages: messages,
                            keywordsInUse: opened.keywordsInUse, highestModSeq: opened.highestModSeq)
        writeFlags(&w, readOnly: readOnly)
        w.untagged("\(messages.count) EXISTS")
        if !rev2 { w.untagged("\(opened.recentCount) RECENT") }
        if !rev2, let firstUnseen = opened.firstUnseen {
            w.untaggedStatus(.ok, .unseen(UInt32(firstUnseen + 1)), "First unseen")
        }
        w.untaggedStatus(.ok, .uidValidity(opened.uidValidity), "Ok")
        w.untaggedStatus(.ok, .uidNext(opened.uidNext), "Predicted next UID")
        w.untaggedStatus(.ok, .myRights(rights.selectText), "ACL")
        if rev2 { writeSelectedList(target, into: &w) }
        writeSelectModSeqs(parameters, into: &w)
        w.tagged(tag, .ok, readOnly ? .readOnly : .readWrite, "Ok")
        if let generation {
            remember(selectOf: name, examine: examine, target: target, directory: dir, generation: generation,
                     rights: rights, list: opened, fromMemo: memo != nil)
        }
        return .selected(name, readOnly: readOnly)
    }

    func writeFlags(_ w: inout ResponseWriter, readOnly: Bool) {
        let keywords = selected.map { Array($0.keywordsInUse).sorted() } ?? []
        w.append("* FLAGS (")
        w.append((keywords + (rev2 ? Flag.system.filter { $0 != Flag.recent.name } : Flag.system)).joined(separator: " "))
        w.append(")\r\n")
        if readOnly {
            w.untaggedStatus(.ok, .permanentFlags([], wildcard: false), "No permanent flags permitted")
        } else {
            // spec/access.md §2.5: `\*` only when keywords are on (IMAP_KEYWORDS).
            let permanent = keywords.map(Flag.init) + Flag.system.dropLast().map(Flag.init)
            w.untaggedStatus(.ok, .permanentFlags(permanent, wildcard: options.keywords), "Limited")
        }
    }

    func deselect() {
        selected = nil
        cachedView = nil
        largeMessageCache = nil
        sizes = [:]
        syncedGeneration = nil
    }

    /// Drops the message bytes kept between FETCH items (called after each command, so an
    /// idle session holds no message).
    func forgetMessage() {
        cachedView = nil
        largeMessageCache = nil
        preloaded = nil
        onEventLoop = false
    }

    static func stamp(_ dir: String) -> [Int64] {
        ["/new", "/cur", "/courierimapkeywords"].map { sub in
            guard let st = SystemCall.status(dir + sub) else { return -1 }
            return Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        }
    }

    /// The stamp to remember before a scan: only one that was already settled when the scan
    /// began can prove later that nothing changed (a change in the same clock tick, just after
    /// the scan, would leave the times as they were). Empty: the next UID command rescans.
    static func settledStamp(_ dir: String) -> [Int64] {
        let stamp = stamp(dir)
        return isSettled(stamp) ? stamp : []
    }

    /// Whether every directory time in `stamp` is more than two seconds old: file system times
    /// move in clock ticks, so a younger stamp could hide a second change in the same tick.
    static func isSettled(_ stamp: [Int64]) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nowNanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        return stamp.allSatisfy { $0 < 0 || nowNanoseconds - $0 > 2_000_000_000 }
    }

    /// RFC822.SIZE: the size with CRLF line ends (spec/access.md §2.5).
    func size(at index: Int) -> Int {
        guard let s = selected, index < s.messages.count else { return 0 }
        let m = s.messages[index]
        if m.size >= 0 { return Int(m.size) }
        if let hint = m.fileName.virtualSizeHint { return Int(hint) }
        if let known = sizes[m.uid] { return known }
        guard let path = filePath(m), let size = LargeMessage.crlfSize(path) else { return 0 }
        sizes[m.uid] = size
        return size
    }

    // MARK: flags

    static func flags(of m: Message) -> [Flag] {
        let f = m.systemFlags
        var out: [Flag] = []
        if f & Message.draftBit != 0 { out.append(.draft) }
        if f & Message.answeredBit != 0 { out.append(.answered) }
        if f & Message.flaggedBit != 0 { out.append(.flagged) }
        if f & Message.deletedBit != 0 { out.append(.deleted) }
        if f & Message.seenBit != 0 { out.append(.seen) }
        if m.recent { out.append(.recent) }
        return m.keywords.isEmpty ? out : out + m.keywords.map(Flag.init)
    }

    static func letter(for flag: Flag) -> UInt8? {
        switch flag {
        case .draft: UInt8(ascii: "D")
        case .answered: UInt8(ascii: "R")
        case .flagged: UInt8(ascii: "F")
        case .deleted: UInt8(ascii: "T")
        case .seen: UInt8(ascii: "S")
        default: nil
        }
    }

    // MARK: refresh (RFC 3501 §7.4.1, §5.2)

    /// Rescans the selected folder and reports what changed: EXPUNGE (only when `allowExpunge`:
    /// never during FETCH, STORE or SEARCH), new messages (EXISTS, RECENT) and flag changes.
    func refresh(into w: inout ResponseWriter, allowExpunge: Bool) {
        guard var s = selected else { return }
        syncedGeneration = nil
        let generation = FolderGenerations.shared?.watch(s.directory)
        dropStaleSelectMemo()
        lastStamp = Self.settledStamp(s.directory)
        // The scan and the mod-sequences it earns, under the folder's modseq lock.
        guard let scanned = scanWithModSeqs(s) else { return }
        let snapshot = scanned.snapshot, keywords = scanned.keywords
        var current: [UInt32: ScannedMessage] = [:]
        var modSeqs: [UInt32: UInt64] = [:]
        for (m, modSeq) in zip(snapshot.messages, scanned.modSeqs) {
            current[m.uid] = m
            modSeqs[m.uid] = modSeq
        }
        if allowExpunge {
            var index = s.messages.count - 1
            var vanished: [UInt32] = []
            while index >= 0 {
                if current[s.messages[index].uid] == nil {
                    vanished.append(s.messages[index].uid)
                    s.messages.remove(at: index)
                    if !qresync { w.untagged("\(index + 1) EXPUNGE") }
                }
                index -= 1
            }
            writeVanished(vanished, earlier: false, into: &w)   // RFC 7162 §3.2.10
        }
        var oldKeywords = s.keywordsInUse
        s.keywordsInUse = []
        for index in s.messages.indices {
            guard let now = current[s.messages[index].uid] else { continue }
            let nowKeywords = keywords[now.fileName.baseName] ?? []
            s.keywordsInUse.formUnion(nowKeywords)
            let modSeq = modSeqs[now.uid] ?? s.messages[index].modSeq
            // Unchanged messages are not written: the array stays shared with other sessions.
            if s.messages[index].fileName == now.fileName && s.messages[index].keywords == nowKeywords {
                if s.messages[index].modSeq != modSeq { s.messages[index].modSeq = modSeq }
                continue
            }
            let before = Self.flags(of: s.messages[index])
            s.messages[index].fileName = now.fileName
            s.messages[index].keywords = nowKeywords
            s.messages[index].modSeq = modSeq
            let after = Self.flags(of: s.messages[index])
            if before != after {
                writeFlagsFetch(index, s.messages[index], into: &w)
            }
        }
        let known = s.messages.last?.uid ?? 0
        var added = 0
        var recent = 0
        for m in snapshot.messages where m.uid > known {
            let k = keywords[m.fileName.baseName] ?? []
            s.keywordsInUse.formUnion(k)
            var message = Message(uid: m.uid, fileName: m.fileName, recent: m.isRecent && !s.readOnly && !rev2, keywords: k)
            message.modSeq = modSeqs[m.uid] ?? scanned.highest
            s.messages.append(message)
            added += 1
            if m.isRecent { recent += 1 }
        }
        s.nextUID = max(s.nextUID, snapshot.nextUID)
        // Expunges this refresh may not report (FETCH, STORE, SEARCH) stay out of HIGHESTMODSEQ.
        if allowExpunge || s.messages.count == snapshot.messages.count { s.highestModSeq = scanned.highest }
        oldKeywords.formUnion([])
        let keywordsChanged = oldKeywords != s.keywordsInUse
        selected = s
        if keywordsChanged { writeFlags(&w, readOnly: s.readOnly) }
        if added > 0 || (allowExpunge && current.count != s.messages.count) {
            w.untagged("\(s.messages.count) EXISTS")
            if !rev2 { w.untagged("\(s.messages.filter(\.recent).count) RECENT") }
        }
        syncedGeneration = generation
        shareAfterRefresh(onDisk: current)
        if let generation, shareListAgain() { sharingTriedGeneration = generation }
        MemoryTrim.shared.request(messages: current.count)
    }

    // MARK: message bytes

    /// Reads a message file; when another session renamed it (flags changed), finds it again.
    func view(at index: Int) -> MessageView? {
        guard let s = selected, index < s.messages.count else { return nil }
        let uid = s.messages[index].uid
        if let cached = cachedView, cached.uid == uid { return cached.view }
        guard let bytes = storedBytes(at: index) else { return nil }
        let view = MessageView(fileBytes: bytes)
        cachedView = (uid, view)
        return view
    }

    /// The message file's bytes as stored (LF line ends); when another session renamed it
    /// (flags changed), finds it again. Nil when it is gone.
    func storedBytes(at index: Int) -> [UInt8]? {
        guard let directory = selected?.directory, let count = selected?.messages.count, index < count,
              let fileName = selected?.messages[index].fileName else { return nil }
        if let preloaded, preloaded.uid == selected?.messages[index].uid { return preloaded.bytes }
        if let bytes = StoredMessageRead.read(directory + "/cur/" + fileName.name, limit: 1 << 30) { return bytes }
        if let bytes = StoredMessageRead.read(directory + "/new/" + fileName.name, limit: 1 << 30) { return bytes }
        guard let renamed = findFile(baseName: fileName.baseName, in: directory) else { return nil }
        selected?.messages[index].fileName = renamed
        return StoredMessageRead.read(directory + "/cur/" + renamed.name, limit: 1 << 30)
    }

    func findFile(baseName: String, in directory: String) -> MessageFileName? {
        RenamedFiles.find(baseName: baseName, in: directory)
    }

    func filePath(_ m: Message) -> String? {
        guard let s = selected else { return nil }
        let cur = s.directory + "/cur/" + m.fileName.name
        if SystemCall.status(cur) != nil { return cur }
        let new = s.directory + "/new/" + m.fileName.name
        if SystemCall.status(new) != nil { return new }
        return findFile(baseName: m.fileName.baseName, in: s.directory).map { s.directory + "/cur/" + $0.name }
    }

    /// Message indices (0-based) a sequence set names, by sequence number or UID.
    func indices(_ set: SequenceSet, uid: Bool) -> [Int] {
        guard let s = selected, !s.messages.isEmpty else { return [] }
        if set.isSavedResult {
            let saved = Set(savedResult)
            return s.messages.indices.filter { saved.contains(s.messages[$0].uid) }
        }
        // Merged ranges, each found by binary search in the (UID-ordered) messages: a one-UID
        // FETCH or STORE costs log n, and many ranges cost at most one pass.
        if uid { return Self.indices(ofUIDs: set.merged(largest: s.messages.last?.uid ?? 0), in: s.messages) }
        let count = UInt32(s.messages.count)
        var result: [Int] = []
        for range in set.merged(largest: count) {
            let low = range.lowerBound, high = min(range.upperBound, count)
            guard low >= 1, low <= high else { continue }
            result.append(contentsOf: (Int(low) - 1)...(Int(high) - 1))
        }
        return result
    }

    /// Indices of the messages whose UIDs fall in `ranges` (sorted, disjoint, as `merged`
    /// gives them); `messages` is in ascending UID order.
    static func indices(ofUIDs ranges: [ClosedRange<UInt32>], in messages: [Message]) -> [Int] {
        var result: [Int] = []
        messages.withUnsafeBufferPointer { m in
            var start = 0
            for range in ranges {
                // First index at or after `start` whose UID is >= the range's lower bound.
                var low = start, high = m.count
                while low < high {
                    let mid = low + (high - low) / 2
                    if m[mid].uid < range.lowerBound { low = mid + 1 } else { high = mid }
                }
                var i = low
                while i < m.count && m[i].uid <= range.upperBound {
                    result.append(i)
                    i += 1
                }
                start = i
                if start == m.count { break }
            }
        }
        return result
    }

    /// Whether a sequence-number set refers past the end (RFC 3501 §7.1: BAD... Courier NO).
    func outOfRange(_ set: SequenceSet, uid: Bool) -> Bool {
        guard !uid, !set.isSavedResult, let s = selected else { return false }
        let count = UInt32(s.messages.count)
        return set.ranges.contains { r in
            (r.upperBound != SequenceSet.star && r.upperBound > count) || (r.lowerBound != SequenceSet.star && r.lowerBound > count)
        }
    }
}
