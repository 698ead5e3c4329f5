#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MailCore
import Maildir
import MaildirCore
import Synchronization

/// The selected folder through the `Maildir` store's persistent caches: SELECT from the
/// snapshot/index, and the envelope header fields (FETCH ENVELOPE, header SEARCH, SORT,
/// THREAD) from the shared summaries, so that a warm folder's messages are not opened.
extension MailboxSession {
    /// Opens `dir` with the store's scan; sizes and dates come from its index. While the
    /// folder's stamps are settled and unchanged, every session of the process gets the same
    /// shared list (no snapshot read, no per-session array); a list with recent messages (this
    /// scan moved them out of new/) is this session's alone.
    func openShared(_ dir: String, readOnly: Bool) throws(MailStoreError) -> SharedMessageList {
        let stamps = FolderIndex.settledStamps(folderPath: dir)
        if let stamps, let known = SharedMessageLists.shared.get(folder: dir, stamps: stamps, keywords: options.keywords) {
            return known
        }
        // A restarted server's first open of an unchanged folder: snapshot + saved MODSEQs.
        if let stamps, let warm = openWarm(dir, stamps: stamps, readOnly: readOnly) { return warm }
        // The open and the mod-sequences of what it found, under the folder's modseq lock (RFC
        // 7162: a delivery or another program's change seen here for the first time gets one).
        let keywordsOn = options.keywords, trash = maildir.trashFolderName
        let (opened, log) = FolderModSeqs.shared(folderPath: dir).transactionReportingLog { t -> Result<(SharedMessageList, Bool), MailStoreError> in
            let snapshot: MailboxSnapshot
            do throws(MailStoreError) {
                snapshot = try FolderIndex.open(folderPath: dir, trashFolderName: trash, readOnly: readOnly)
            } catch {
                return .failure(error)
            }
            var messages: [Message] = []
            messages.reserveCapacity(snapshot.messages.count)
            var anyRecent = false
            var uids: [UInt32] = [], fingerprints: [UInt64] = []
            uids.reserveCapacity(snapshot.messages.count)
            fingerprints.reserveCapacity(snapshot.messages.count)
            for m in snapshot.messages {
                anyRecent = anyRecent || m.isRecent
                let keywords = keywordsOn ? m.keywords : []
                messages.append(Message(uid: m.uid, fileName: MessageFileName(m.fileName), recent: m.isRecent && !readOnly,
                                        keywords: keywords, size: m.size,
                                        internalDate: m.internalDate, systemFlags: m.flags.rawValue))
                uids.append(m.uid)
                fingerprints.append(ModSeqFingerprint.of(fileName: m.fileName, keywords: keywords))
            }
            let modSeqs = t.reconcile(uidValidity: snapshot.uidValidity, uids: uids, fingerprints: fingerprints)
            for i in messages.indices { messages[i].modSeq = modSeqs[i] }
            return .success((SharedMessageList(uidValidity: snapshot.uidValidity, uidNext: snapshot.uidNext,
                                               messages: messages, highestModSeq: t.highest), anyRecent))
        }
        let (list, anyRecent) = try opened.get()
        MemoryTrim.shared.request(messages: list.messages.count)   // the open's garbage
        // Shared only when the folder did not change while it was read (same settled stamps
        // after as before), no message is \Recent (that belongs to this session alone), and the
        // list holds everything: a read-only open (EXAMINE) leaves new mail in new/, and a SELECT
        // served that list would never move it to cur/ (the mail would stay hidden).
        guard !anyRecent, !readOnly || Self.newIsEmpty(dir) else { return list }
        if let stamps, FolderIndex.settledStamps(folderPath: dir) == stamps {
            if !readOnly, let log { saveModSeqs(dir, stamps: stamps, log: log, list) }
            return SharedMessageLists.shared.put(folder: dir, stamps: stamps, keywords: options.keywords, list)
        }
        // Not settled (a change in the last two seconds): no stamps to keep it under, but the
        // sessions that open the folder as it is now still share one array (issue 6: after a
        // burst of STOREs, every SELECT used to keep its own).
        return SharedMessageLists.shared.share(folder: dir, keywords: options.keywords, list)
    }

    /// No delivered message waits in `new/` (dot files are not messages).
    static func newIsEmpty(_ dir: String) -> Bool {
        !SystemCall.names(in: dir + "/new").contains { !$0.hasPrefix(".") }
    }

    /// After a change, a session that refreshed holds a private copy of the folder's list. Once
    /// the folder has settled again, it goes back to the shared list of the current stamps (built
    /// by the first session that asks) when that list says exactly what this session's view
    /// says (same UIDs in the same order, file names, keywords, no \Recent): the client sees no
    /// difference, and the private copy is freed. Tried once per stamps, so a session whose
    /// view differs (pending expunges, recent messages) compares at most once per change.
    /// Returns false when it could not try yet (the last scan's stamps are not settled): a
    /// later call may succeed. True: nothing more to try for the folder as it is.
    @discardableResult
    func shareListAgain() -> Bool {
        guard let s = selected, !lastStamp.isEmpty else { return true }
        guard Self.isSettled(lastStamp), let stamps = FolderIndex.settledStamps(folderPath: s.directory) else { return false }
        guard stamps != sharingTriedFor else { return true }
        sharingTriedFor = stamps
        // Read-only: this open never moves a message out of new/ (its \Recent would be lost).
        guard let list = try? openShared(s.directory, readOnly: true),
              SharedMessageLists.shared.get(folder: s.directory, stamps: stamps, keywords: options.keywords) === list,
              list.messages.count == s.messages.count else { return true }
        let same = list.messages.withUnsafeBufferPointer { a in s.messages.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        if same { return true }
        for (shared, mine) in zip(list.messages, s.messages) {
            guard shared.uid == mine.uid, shared.fileName == mine.fileName, shared.keywords == mine.keywords,
                  !mine.recent else { return true }
        }
        selected?.messages = list.messages
        selected?.keywordsInUse = list.keywordsInUse
        return true
    }

    /// The message's summary from the folder's shared cache (parsed from the file once).
    func summary(at index: Int) -> MessageSummary? {
        guard let s = selected, index < s.messages.count else { return nil }
        let m = s.messages[index]
        return FolderSummaries.shared(folderPath: s.directory).stored(baseName: m.fileName.baseName, readOnly: s.readOnly) {
            filePath(m).flatMap(LargeMessage.summary)
        }?.summary
    }

    /// The header fields a summary keeps (lower case).
    static let summaryFields: Set<String> = ["date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
                                             "in-reply-to", "message-id", "references"]

    /// The first header `name`, unfolded and trimmed as `MessageView.header` gives it, from the
    /// summary when it is one of the fields a summary keeps (`.some(nil)`: absent); nil when
    /// the summary does not keep that field or the message cannot be read.
    func summaryHeader(_ name: String, at index: Int) -> [UInt8]?? {
        let lower = String(decoding: Parser.lowercasedBytes(Array(name.utf8)), as: UTF8.self)
        guard Self.summaryFields.contains(lower), let summary = summary(at: index) else { return nil }
        let e = summary.envelope
        let raw: [UInt8]?
        switch lower {
        case "date": raw = e.date
        case "subject": raw = e.subject
        case "from": raw = e.from
        case "sender": raw = e.sender
        case "reply-to": raw = e.replyTo
        case "to": raw = e.to
        case "cc": raw = e.cc
        case "bcc": raw = e.bcc
        case "in-reply-to": raw = e.inReplyTo
        case "message-id": raw = e.messageID
        default: raw = summary.references
        }
        // The summary keeps folds as LF + whitespace; Courier's rule makes each a single space.
        return .some(raw.map { MessageView.trim(HeaderUnfolding.catenate($0)) })
    }

    /// A header for SEARCH/SORT/THREAD: from the summary when it keeps the field, else from
    /// the message.
    func header(_ name: String, at index: Int) -> [UInt8]? {
        if let known = summaryHeader(name, at: index) { return known }
        if let block = largeHeaderBlock(at: index) {
            return block.first(named: name).map { MessageView.trim(HeaderUnfoldingShim.unfold($0.value)) }
        }
        return view(at: index)?.header(name)
    }

    /// ENVELOPE (RFC 3501 §7.4.2) from the summary; nil when the message cannot be read.
    func cachedEnvelope(at index: Int) -> IMAP.Envelope? {
        guard let e = summary(at: index)?.envelope else { return nil }
        return MessageView.envelope { name in
            let raw: [UInt8]?
            switch name {
            case "Date": raw = e.date
            case "Subject": raw = e.subject
            case "From": raw = e.from
            case "Sender": raw = e.sender
            case "Reply-To": raw = e.replyTo
            case "To": raw = e.to
            case "Cc": raw = e.cc
            case "Bcc": raw = e.bcc
            case "In-Reply-To": raw = e.inReplyTo
            case "Message-ID": raw = e.messageID
            default: raw = nil
            }
            return raw.map { MessageView.trim(HeaderUnfolding.catenate($0)) }
        }
    }

    /// The ENVELOPE item's bytes as `w` would write them, from the process-wide cache of
    /// formatted envelopes (address parsing was most of a warm FETCH 1:* ENVELOPE).
    func envelopeBytes(at index: Int, utf8: Bool) -> [UInt8]? {
        guard let s = selected, index < s.messages.count else { return nil }
        let key = EnvelopeBytesCache.Key(folder: s.directory, baseName: s.messages[index].fileName.baseName, utf8: utf8)
        if let known = EnvelopeBytesCache.shared.get(key) { return known }
        guard let envelope = cachedEnvelope(at: index) else { return nil }
        var w = ResponseWriter(capacity: 512)
        w.utf8Allowed = utf8
        w.envelope(envelope)
        EnvelopeBytesCache.shared.put(key, w.bytes)
        return w.bytes
    }

    /// INTERNALDATE seconds: from the index, else the file's mtime.
    func internalSeconds(_ m: Message) -> Int64 {
        if m.internalDate >= 0 { return m.internalDate }
        guard let path = filePath(m), let st = SystemCall.status(path) else { return 0 }
        return Int64(st.st_mtim.tv_sec)
    }
}

/// Formatted ENVELOPEs by folder and base name, shared by the sessions of the process (a
/// message's bytes never change under its base name, so an entry never goes stale). Bounded:
/// past `limit` entries it starts again.
final class EnvelopeBytesCache: Sendable {
    struct Key: Hashable {
        var folder: String
        var baseName: String
        var utf8: Bool
    }

    static let shared = EnvelopeBytesCache()
    static let limit = 200_000
    private let entries = Mutex<[Key: [UInt8]]>([:])

    func get(_ key: Key) -> [UInt8]? { entries.withLock { $0[key] } }

    func put(_ key: Key, _ bytes: [UInt8]) {
        entries.withLock { table in
            if table.count >= Self.limit { table.removeAll() }
            table[key] = bytes
        }
    }
}
