#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MaildirCore

/// Adding messages to a filesystem shared folder (spec/access.md §1.7 (B): "adding a message =
/// copy into the sharable folder's tmp→cur"). Courier's imapd, running as the user, may add when
/// the file system lets that user write the folder; one server process serves every user here,
/// so only folders everybody may write (`maildirmake -s write`: mode 1777) take new messages, and
/// the visitor gets `i` there. Expunging follows the folder's permissions (+SharableExpunge:
/// under the sticky bit only the user's own posts, which are noted here). The new files carry no
/// flags (flags are each user's, on their links); they never count toward a quota (§1.7).
extension MailboxSession {
    /// The sharable folder behind this session when it is the local copy of a `shared.` folder
    /// (its `shared` link).
    /// Writes go through it only with `i`, which `sharableSession` grants only when the link
    /// names the configured sharable folder and everybody may write that folder.
    var sharableRemote: String? {
        guard sharedPrefix?.hasPrefix(Self.sharableNamespace + ".") == true else { return nil }
        return Self.linkTarget(maildir.path + "/shared")
    }

    /// What a symbolic link points to (nil: not a link).
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Everybody may add to the folder: it and its tmp/, new/ and cur/ are world-writable.
    static func sharableIsWritable(_ remote: String) -> Bool {
        ["", "/tmp", "/new", "/cur"].allSatisfy { sub in
            guard let st = SystemCall.status(remote + sub) else { return false }
            return (st.st_mode & S_IFMT) == S_IFDIR && st.st_mode & 0o002 != 0
        }
    }

    /// A message to add: written to the sharable folder's tmp/ (`PendingMessage(folderPath:
    /// remote)`), with the adding user's flags, keywords and INTERNALDATE for their own link.
    struct SharableInsert {
        var pending: PendingMessage
        var flags: MessageFlags
        var keywords: [String]
        var date: Int64?
    }

    /// Commits the messages into the sharable folder's cur/ (no flags), links them into this
    /// local copy as a sync would, and scans the copy so they get their UIDs at once (UIDPLUS);
    /// then the user's flags and keywords go on the new links. Returns the local UIDVALIDITY
    /// and the new UIDs in order.
    func insertIntoSharable(_ adding: [SharableInsert]) throws(MaildirError) -> (uidValidity: UInt32, uids: [UInt32]) {
        guard let remote = sharableRemote else { throw .notFound(maildir.path + "/shared") }
        var bases: [String] = []
        for item in adding {
            let delivered = try item.pending.commit(to: .cur(MessageFlags()), quota: .ignore)
            if let date = item.date { Self.setModificationTime(delivered.path, date) }
            bases.append(delivered.fileName.baseName)
            if symlink(remote + "/cur/" + delivered.fileName.name, maildir.path + "/new/" + delivered.fileName.baseName) != 0
                && errno != EEXIST {
                throw MaildirError.system(operation: "symlink", path: maildir.path + "/new/" + delivered.fileName.baseName, errno: errno)
            }
        }
        notePostedToSharable(bases)   // theirs to expunge under the sticky bit (+SharableExpunge)
        let snapshot = try FolderScanner(folderPath: maildir.path, trashFolderName: maildir.trashFolderName).scan()
        var byBase: [String: ScannedMessage] = [:]
        for m in snapshot.messages { byBase[m.fileName.baseName] = m }
        let keywords = KeywordStore(folderPath: maildir.path)
        var uids: [UInt32] = []
        for (item, base) in zip(adding, bases) {
            guard let m = byBase[base] else { continue }
            uids.append(m.uid)
            if !item.flags.letters.isEmpty { _ = try? maildir.setFlags(folder: nil, fileName: m.fileName, flags: item.flags) }
            if !item.keywords.isEmpty { try? keywords.update(baseName: base, keywords: item.keywords) }
        }
        return (snapshot.uidValidity, uids)
    }

    /// APPEND to this `shared.` folder (`i`: the folder is writable by everybody).
    func appendToSharable(_ tag: [UInt8], _ name: MailboxName, _ messages: [AppendMessage], remote: String,
                          streamed: [Int: StreamedAppend], into w: inout ResponseWriter) {
        for (index, stream) in streamed where index >= messages.count { stream.abort() }
        // `i` was granted for the link as it was; the folder it names now must still be one
        // everybody may write.
        guard require(ACLRights.insert, on: .inbox, "APPEND", Self.shown(name), tag, into: &w) else {
            for s in streamed.values { s.abort() }
            return
        }
        guard Self.sharableIsWritable(remote) else {
            for s in streamed.values { s.abort() }
            accessDenied("APPEND", Self.shown(name), ACLRights.insert, tag, into: &w)
            return
        }
        if messages.contains(where: { $0.binary && !Self.survivesLineEndConversion($0.bytes) }) {
            for s in streamed.values { s.abort() }
            w.tagged(tag, .no, .unknownCTE, "Binary content with bare LF bytes cannot be stored.")
            return
        }
        var adding: [SharableInsert] = []
        do {
            for (index, message) in messages.enumerated() {
                let (pending, letters, words) = try Self.prepared(message, streamed: streamed[index], in: remote)
                adding.append(SharableInsert(pending: pending, flags: letters, keywords: words,
                                             date: message.date.map(Self.epochSeconds)))
            }
            let (validity, uids) = try insertIntoSharable(adding)
            if selected != nil { refresh(into: &w, allowExpunge: false) }
            w.tagged(tag, .ok, .appendUID(uidValidity: validity, uids: uids), "APPEND Ok.")
        } catch {
            for item in adding { item.pending.abort() }
            for s in streamed.values { s.abort() }
            w.tagged(tag, .no, .serverBug, "APPEND failed: \(error)")
        }
    }

    /// Copies of the selected folder's messages (`source`, this session or another) into the
    /// sharable folder behind `self`; answers with COPYUID in this folder's UIDs.
    func copyIntoSharable(_ tag: [UInt8], _ set: SequenceSet, uid: Bool, from source: MailboxSession,
                          _ name: MailboxName, into w: inout ResponseWriter) {
        guard let s = source.selected, let remote = sharableRemote else { return }
        if source.outOfRange(set, uid: uid) {
            w.tagged(tag, .bad, nil, "Message sequence number out of range")
            return
        }
        guard require(ACLRights.insert, on: .inbox, "COPY", Self.shown(name), tag, into: &w) else { return }
        guard Self.sharableIsWritable(remote) else {
            accessDenied("COPY", Self.shown(name), ACLRights.insert, tag, into: &w)
            return
        }
        var adding: [SharableInsert] = []
        var sourceUIDs: [UInt32] = []
        do {
            for index in source.indices(set, uid: uid) where index < s.messages.count {
                let m = s.messages[index]
                guard let path = source.filePath(m),
                      let pending = try StoredMessageCopy.pending(copying: path, into: remote) else { continue }
                adding.append(SharableInsert(pending: pending, flags: m.fileName.flags ?? MessageFlags(),
                                             keywords: m.keywords, date: nil))
                sourceUIDs.append(m.uid)
            }
            let (validity, uids) = try insertIntoSharable(adding)
            if source === self { refresh(into: &w, allowExpunge: false) }
            let code = ResponseCode.copyUID(uidValidity: validity, source: sourceUIDs, destination: uids)
            w.tagged(tag, .ok, sourceUIDs.isEmpty ? nil : code, "COPY completed.")
        } catch {
            for item in adding { item.pending.abort() }
            w.tagged(tag, .no, .serverBug, "COPY failed: \(error)")
        }
    }

    /// In a `shared.` session: APPEND, and COPY into the folder itself, go to the sharable
    /// folder; nil for everything else.
    func runSharableWrite(_ tagged: TaggedCommand, streamed: [Int: StreamedAppend]) -> (bytes: [UInt8], change: SelectionChange)? {
        guard let remote = sharableRemote else { return nil }
        var w = ResponseWriter(capacity: 256)
        w.utf8Allowed = utf8
        switch tagged.command {
        case .append(let name, let messages):
            appendToSharable(tagged.tag, name, messages, remote: remote, streamed: streamed, into: &w)
        case .copy(let set, let name, let uid):
            guard let text = String(validating: name.bytes, as: UTF8.self), localName(text) == "INBOX" else { return nil }
            copyIntoSharable(tagged.tag, set, uid: uid, from: self, name, into: &w)
        default:
            return nil
        }
        return (w.bytes, .none)
    }
}
