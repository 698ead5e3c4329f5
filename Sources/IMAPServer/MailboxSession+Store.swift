#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MailCore
import class Maildir.FolderModSeqs
import MaildirCore

extension MailboxSession {
    /// STORE / UID STORE (RFC 3501 §6.4.6). `\Recent` cannot be stored (spec/access.md §2.5).
    /// `unchangedSince`: RFC 7162 §3.1.3 — messages whose MODSEQ is higher are left alone and
    /// named in `[MODIFIED …]`. The whole STORE runs under the folder's modseq lock.
    func store(_ tag: [UInt8], _ set: SequenceSet, _ action: StoreAction, uid: Bool, unchangedSince: UInt64? = nil,
               into w: inout ResponseWriter) {
        // The selection is read through `selected` and changed in place, never through a local
        // copy: a copy would share the message array's buffer, and every write to it would
        // then duplicate the whole array (10,000 messages per STORE on a big folder).
        guard let readOnly = selected?.readOnly, let directory = selected?.directory else { return }
        if readOnly {
            w.tagged(tag, .no, nil, "Current box is selected READ-ONLY.")
            return
        }
        if action.flags.contains(.recent) {
            w.tagged(tag, .bad, nil, "\\Recent cannot be stored")
            return
        }
        if outOfRange(set, uid: uid) {
            w.tagged(tag, .bad, nil, "Message sequence number out of range")
            return
        }
        // With IMAP_KEYWORDS=0 keywords are not permanent flags: they are not stored.
        let keywords = options.keywords ? action.flags.filter { !$0.isSystem }.map(\.name) : []
        for keyword in keywords where !KeywordList.isValidKeyword(keyword) {
            w.tagged(tag, .bad, nil, "Invalid keyword")
            return
        }
        let keywordsBefore = selected?.keywordsInUse ?? []
        let keywordStore = KeywordStore(folderPath: directory)
        let allowed = storableFlags()  // RFC 4314 §4: flags without their right keep their value
        var modified: [UInt32] = []
        var changed: [Int] = []
        var answered: [Int] = []
        FolderModSeqs.shared(folderPath: directory).transaction { t in
            for index in indices(set, uid: uid) {
                guard let count = selected?.messages.count, index < count,
                      let original = selected?.messages[index] else { continue }
                let folder = selected?.folder
                var m = original
                if let since = unchangedSince {
                    if let path = filePath(m), let name = path.split(separator: "/").last, path.hasSuffix("/cur/" + name) {
                        m.fileName = MessageFileName(String(name))
                    }
                    // A change another program made and no session has seen yet counts as a
                    // change now (it gets its mod-sequence first).
                    let onDisk = Self.fingerprint(m)
                    if let logged = t.fingerprint(of: m.uid), logged != onDisk {
                        t.record(changed: [(uid: m.uid, fingerprint: onDisk)])
                    }
                    if (t.modSeq(of: m.uid) ?? m.modSeq) > since {
                        modified.append(uid ? m.uid : UInt32(index + 1))
                        continue
                    }
                }
                let fingerprintBefore = Self.fingerprint(original)
                var letters = m.letters ?? MessageFlags()
                for flag in [Flag.draft, .answered, .flagged, .deleted, .seen] where Self.mayStore(flag, allowed) {
                    guard let letter = Self.letter(for: flag) else { continue }
                    switch action.kind {
                    case .replace: letters = letters.setting(letter, action.flags.contains(flag))
                    case .add: if action.flags.contains(flag) { letters = letters.inserting(letter) }
                    case .remove: if action.flags.contains(flag) { letters = letters.removing(letter) }
                    }
                }
                if letters != (m.letters ?? MessageFlags()) {
                    if let path = filePath(m), let name = path.split(separator: "/").last,
                       path.hasSuffix("/cur/" + name) {
                        m.fileName = MessageFileName(String(name))
                    }
                    if let renamed = try? maildir.setFlags(folder: folder, fileName: m.fileName, flags: letters) {
                        RenamedFiles.shared.note(directory: directory, baseName: renamed.baseName, name: renamed.name)
                        m.fileName = renamed
                    }
                }
                var newKeywords = m.keywords
                switch action.kind {
                case .replace: newKeywords = keywords
                case .add: for k in keywords where !newKeywords.contains(k) { newKeywords.append(k) }
                case .remove: newKeywords.removeAll { k in keywords.contains { $0.lowercased() == k.lowercased() } }
                }
                if newKeywords != m.keywords && allowed.other {
                    try? keywordStore.update(baseName: m.fileName.baseName, keywords: newKeywords)
                    m.keywords = newKeywords
                    selected?.keywordsInUse.formUnion(newKeywords)
                }
                selected?.messages[index] = m
                if Self.fingerprint(m) != fingerprintBefore { changed.append(index) }
                answered.append(index)
            }
            recordOwnChanges(changed, in: &t)
        }
        let changedSet = Set(changed)
        for index in answered {
            guard let m = selected?.messages[index] else { continue }
            // RFC 7162 §3.1.3: with CONDSTORE even .SILENT reports the new MODSEQ.
            if !action.silent {
                writeFlagsFetch(index, m, into: &w, uidRequested: uid)
            } else if condStore && changedSet.contains(index) {
                writeFlagsFetch(index, m, into: &w, uidRequested: uid, flags: false)
            }
        }
        if let now = selected, now.keywordsInUse != keywordsBefore {
            // spec/access.md §2.5: a new keyword re-sends FLAGS and PERMANENTFLAGS.
            var header = ResponseWriter()
            writeFlags(&header, readOnly: false)
            w = { var x = header; x.append(bytes: w.bytes); return x }()
        }
        if !modified.isEmpty {
            w.tagged(tag, .ok, .modified(modified.sorted()), "Conditional STORE failed for some messages.")
            return
        }
        w.tagged(tag, .ok, nil, "STORE completed.")
    }

    /// EXPUNGE, UID EXPUNGE (RFC 3501 §6.4.3, RFC 4315 §2.1), CLOSE's silent expunge.
    func expunge(only uids: SequenceSet? = nil, silent: Bool = false, into w: inout ResponseWriter) -> Bool {
        guard var s = selected, !s.readOnly else { return false }
        var index = s.messages.count - 1
        let chosen: Set<UInt32>? = uids.map { set in Set(indices(set, uid: true).map { s.messages[$0].uid }) }
        var gone: [UInt32] = []
        let sharable = sharableRemote != nil
        var posted: Set<String>?
        while index >= 0 {
            var m = s.messages[index]
            if let current = filePath(m).flatMap({ $0.split(separator: "/").last }) { m.fileName = MessageFileName(String(current)) }
            let deleted = m.isDeleted
            if deleted && (chosen?.contains(m.uid) ?? true) {
                // A `shared.` folder: the real file goes first, when the user may remove it.
                if sharable && !removeFromSharable(m.fileName, localDirectory: s.directory, posted: &posted) {
                    keepUndeleted(&m, at: index, report: !silent, into: &w)
                    s.messages[index] = m
                    index -= 1
                    continue
                }
                do {
                    if options.moveExpungedToTrash && s.folder?.name != maildir.trashFolderName {
                        try moveToTrash(m.fileName, from: s.directory)
                    } else {
                        try maildir.expunge(folder: s.folder, fileName: m.fileName)
                    }
                } catch MaildirError.notFound {
                } catch {
                    index -= 1
                    continue
                }
                try? KeywordStore(folderPath: s.directory).update(baseName: m.fileName.baseName, keywords: [])
                gone.append(m.uid)
                s.messages.remove(at: index)
                if !silent && !qresync { w.untagged("\(index + 1) EXPUNGE") }
            }
            index -= 1
        }
        selected = s
        recordOwnExpunges(gone)
        if !silent { writeVanished(gone, earlier: false, into: &w) }   // RFC 7162 §3.2.10
        return true
    }

    /// IMAP_MOVE_EXPUNGE_TO_TRASH: the file moves to Trash's cur/ without its T flag.
    func moveToTrash(_ fileName: MessageFileName, from directory: String) throws(MaildirError) {
        let trash = try FolderName(maildir.trashFolderName)
        if !maildir.folderExists(trash) { try? maildir.createFolder(trash) }
        let source = directory + "/cur/" + fileName.name
        let target = maildir.directory(of: trash) + "/cur/" + fileName.withFlags((fileName.flags ?? MessageFlags()).removing(UInt8(ascii: "T"))).name
        // Only \Deleted (T) messages are expunged, and those already left the quota count when
        // they were flagged; Trash never counts: no maildirsize change.
        if Glibc.rename(source, target) != 0 {
            if errno == ENOENT { throw MaildirError.notFound(source) }
            throw MaildirError.alreadyExists(target)
        }
    }

    // MARK: APPEND (RFC 3501 §6.3.11, RFC 3502, RFC 4315 APPENDUID)

    /// A COPY, MOVE or APPEND that failed before it was committed: the messages already in
    /// tmp/ are removed, and the client gets `NO [OVERQUOTA]` or the error (one line of it).
    static func failedCommit(_ error: Error, pending: [PendingMessage], _ command: String, _ tag: [UInt8],
                             into w: inout ResponseWriter) {
        for p in pending { p.abort() }
        if case MaildirError.quotaExceeded = error {
            w.tagged(tag, .no, .overQuota, "Mail quota exceeded.")
        } else {
            let text = String(describing: error).unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : String($0) }.joined()
            w.tagged(tag, .no, .serverBug, "\(command) failed: \(text)")
        }
    }

    /// One APPEND message made ready to commit into `dir`: its file in tmp/ (the one streamed
    /// while it arrived, or written now), its system flags as Maildir letters and its keywords.
    static func prepared(_ message: AppendMessage, streamed stream: StreamedAppend?,
                         in dir: String) throws -> (PendingMessage, MessageFlags, [String]) {
        let pending: PendingMessage
        if let stream {
            guard stream.isComplete, stream.directory == dir else {
                throw stream.failure ?? MaildirError.notFound(stream.directory)
            }
            pending = stream.pending
        } else {
            pending = try PendingMessage(folderPath: dir)
            try pending.write(lf(message.bytes))
        }
        var letters = MessageFlags()
        for flag in message.flags { if let l = letter(for: flag) { letters = letters.inserting(l) } }
        let keywords = message.flags.filter { !$0.isSystem && KeywordList.isValidKeyword($0.name) }.map(\.name)
        return (pending, letters, keywords)
    }

    /// `streamed`: messages whose bytes were written while they arrived, by message index.
    func append(_ tag: [UInt8], _ name: MailboxName, _ messages: [AppendMessage],
                streamed: [Int: StreamedAppend] = [:], into w: inout ResponseWriter) {
        for (index, stream) in streamed where index >= messages.count { stream.abort() }
        guard let target = target(name), exists(target) else {
            for s in streamed.values { s.abort() }
            w.tagged(tag, .no, .tryCreate, "Mailbox does not exist.")
            return
        }
        guard require(ACLRights.insert, on: target, "APPEND", Self.shown(name), tag, into: &w) else {
            for s in streamed.values { s.abort() }
            return
        }
        // RFC 3516 §4.4: binary content the Maildir (LF line ends on disk) cannot give back unchanged.
        if messages.contains(where: { $0.binary && !Self.survivesLineEndConversion($0.bytes) }) {
            for s in streamed.values { s.abort() }
            w.tagged(tag, .no, .unknownCTE, "Binary content with bare LF bytes cannot be stored.")
            return
        }
        let dir = directory(target)
        var adding: [(PendingMessage, MessageFlags)] = []
        var keywordLists: [[String]] = []
        do {
            for (index, message) in messages.enumerated() {
                let (pending, letters, keywords) = try Self.prepared(message, streamed: streamed[index], in: dir)
                adding.append((pending, letters))
                keywordLists.append(keywords)
            }
            let snapshot = try FolderScanner(folderPath: dir, trashFolderName: maildir.trashFolderName).scan(adding: adding)
            let store = KeywordStore(folderPath: dir)
            for (i, uid) in snapshot.addedUIDs.enumerated() where i < messages.count {
                guard let m = snapshot.messages.first(where: { $0.uid == uid }) else { continue }
                if !keywordLists[i].isEmpty {
                    try? store.update(baseName: m.fileName.baseName, keywords: keywordLists[i])
                }
                if let date = messages[i].date {
                    // INTERNALDATE is the file's mtime (spec/access.md §2.5).
                    Self.setModificationTime(dir + "/cur/" + m.fileName.name, Self.epochSeconds(date))
                }
            }
            if let s = selected, s.directory == dir { refresh(into: &w, allowExpunge: false) }
            w.tagged(tag, .ok, .appendUID(uidValidity: snapshot.uidValidity, uids: snapshot.addedUIDs), "APPEND Ok.")
        } catch {
            Self.failedCommit(error, pending: adding.map(\.0), "APPEND", tag, into: &w)
        }
    }

    static func epochSeconds(_ d: IMAPDateTime) -> Int64 {
        let civil = CivilDateTime(year: Int64(d.date.year), month: d.date.month, day: d.date.day,
                                  hour: d.hour, minute: d.minute, second: min(d.second, 59))
        return civil.epochSeconds - Int64(d.zoneMinutes) * 60
    }

    static func setModificationTime(_ path: String, _ seconds: Int64) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    /// IMAP CRLF → Maildir LF (spec/access.md §2.5: APPEND stores LF).
    static func lf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1; continue }
            out.append(bytes[i])
            i += 1
        }
        return out
    }

    // MARK: COPY / MOVE (RFC 3501 §6.4.7, RFC 6851, RFC 4315 COPYUID)

    func copy(_ tag: [UInt8], _ set: SequenceSet, to name: MailboxName, uid: Bool, move: Bool, into w: inout ResponseWriter) {
        guard let s = selected else { return }
        if outOfRange(set, uid: uid) {
            w.tagged(tag, .bad, nil, "Message sequence number out of range")
            return
        }
        guard let target = target(name), exists(target) else {
            w.tagged(tag, .no, .tryCreate, "Mailbox does not exist.")
            return
        }
        if move && s.readOnly {
            w.tagged(tag, .no, nil, "Current box is selected READ-ONLY.")
            return
        }
        // RFC 4314 §4: COPY needs `i` on the target; MOVE also `t` and `e` on the source (RFC 6851 §3.3).
        guard require(ACLRights.insert, on: target, move ? "MOVE" : "COPY", Self.shown(name), tag, into: &w) else { return }
        if move && !selectedRights().contains("et") {
            accessDenied("MOVE", "current mailbox", ACLRights.expunge, tag, into: &w)
            return
        }
        if move, let refusal = sharableMoveRefusal(indices(set, uid: uid)) {
            w.tagged(tag, .no, .cannot, refusal)
            return
        }
        let dir = directory(target)
        let chosen = indices(set, uid: uid)
        var adding: [(PendingMessage, MessageFlags)] = []
        var sourceUIDs: [UInt32] = []
        var keywordLists: [[String]] = []
        do {
            for index in chosen {
                let m = s.messages[index]
                guard let path = filePath(m),
                      let pending = try StoredMessageCopy.pending(copying: path, into: dir) else { continue }
                adding.append((pending, m.fileName.flags ?? MessageFlags()))
                sourceUIDs.append(m.uid)
                keywordLists.append(m.keywords)
            }
            let snapshot = try FolderScanner(folderPath: dir, trashFolderName: maildir.trashFolderName).scan(adding: adding)
            let store = KeywordStore(folderPath: dir)
            if keywordLists.contains(where: { !$0.isEmpty }) {
                var byUID: [UInt32: MessageFileName] = [:]
                for m in snapshot.messages { byUID[m.uid] = m.fileName }
                for (i, newUID) in snapshot.addedUIDs.enumerated() where i < keywordLists.count && !keywordLists[i].isEmpty {
                    if let name = byUID[newUID] {
                        try? store.update(baseName: name.baseName, keywords: keywordLists[i])
                    }
                }
            }
            let code = ResponseCode.copyUID(uidValidity: snapshot.uidValidity, source: sourceUIDs, destination: snapshot.addedUIDs)
            if move {
                // RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGEs, then the tagged OK.
                if !sourceUIDs.isEmpty { w.untaggedStatus(.ok, code, "Moved") }
                removeMovedFromSharable(chosen)
                var gone: [UInt32] = []
                for index in chosen.reversed() {
                    guard var current = selected, index < current.messages.count else { continue }
                    var m = current.messages[index]
                    if let p = filePath(m), let last = p.split(separator: "/").last { m.fileName = MessageFileName(String(last)) }
                    try? maildir.expunge(folder: current.folder, fileName: m.fileName)
                    try? KeywordStore(folderPath: current.directory).update(baseName: m.fileName.baseName, keywords: [])
                    current.messages.remove(at: index)
                    selected = current
                    gone.append(m.uid)
                    if !qresync { w.untagged("\(index + 1) EXPUNGE") }
                }
                recordOwnExpunges(gone)
                writeVanished(gone, earlier: false, into: &w)   // RFC 7162 §3.2.10
                w.tagged(tag, .ok, nil, "MOVE completed.")
            } else {
                if s.directory == dir { refresh(into: &w, allowExpunge: false) }
                w.tagged(tag, .ok, sourceUIDs.isEmpty ? nil : code, "COPY completed.")
            }
        } catch {
            Self.failedCommit(error, pending: adding.map(\.0), move ? "MOVE" : "COPY", tag, into: &w)
        }
    }
}
