import IMAP
import MaildirCore

/// Courier's virtual shared folders (spec/access.md §1.7 (A)): other accounts of the shared
/// index appear under `#shared.<account>.<folder>` (their INBOX as `#shared.<account>`), each
/// mailbox as far as its ACL grants this user rights. Commands on such a name run in a second
/// `MailboxSession` over the other account's Maildir, whose names all carry the `#shared.`
/// prefix and whose folders are owned by the index's owner identifier, never by this user.
extension MailboxSession {
    static let sharedNamespace = "#shared"

    /// The session for a `#shared.` name's account (nil: not a shared name, sharing off, no
    /// such account, or its Maildir is not there: Courier skips those silently).
    func sharedSession(for name: MailboxName) -> MailboxSession? {
        guard let index = sharedIndex, sharedPrefix == nil,
              let text = String(validating: name.bytes, as: UTF8.self),
              text.hasPrefix(Self.sharedNamespace + ".") else { return nil }
        let components = text.dropFirst(Self.sharedNamespace.count + 1).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let (location, _) = index.resolve(components) else { return nil }
        let prefix = Self.sharedNamespace + "." + location.prefix.joined(separator: ".")
        if let current = sharedSelection, current.sharedPrefix == prefix { return current }
        return makeSharedSession(location, prefix: prefix)
    }

    func makeSharedSession(_ location: SharedIndex.Location, prefix: String) -> MailboxSession? {
        guard SystemCall.isDirectory(location.maildir + "/cur") else { return nil }
        let session = MailboxSession(maildirPath: location.maildir, user: user, options: options)
        session.accountOptions = accountOptions
        session.sharedPrefix = prefix
        session.ownerOverride = location.owner
        return session
    }

    /// In a shared session: `#shared.bob` → `INBOX`, `#shared.bob.Sent` → `INBOX.Sent`; nil
    /// for names outside this account.
    func localName(_ text: String) -> String? {
        guard let prefix = sharedPrefix else { return text }
        if text == prefix { return "INBOX" }
        guard text.hasPrefix(prefix + ".") else { return nil }
        return "INBOX" + text.dropFirst(prefix.count)
    }

    /// The mailbox a command names, for routing.
    static func mailboxName(of command: Command) -> MailboxName? {
        switch command {
        case .select(let n, _), .examine(let n, _), .status(let n, _), .append(let n, _), .getACL(let n),
             .myRights(let n), .listRights(let n, _), .setACL(let n, _, _), .deleteACL(let n, _):
            return n
        default: return nil
        }
    }

    /// Commands that act on the selected mailbox.
    static func actsOnSelection(_ command: Command) -> Bool {
        switch command {
        case .fetch, .store, .search, .copy, .move, .expunge, .uidExpunge, .noop, .check, .close,
             .unselect, .sort, .thread:
            return true
        default: return false
        }
    }

    /// Runs what belongs to a shared session; nil when the own session should.
    /// `enabled` goes along, so a shared folder answers a CONDSTORE/QRESYNC client as its own.
    func runShared(_ tagged: TaggedCommand, utf8: Bool, enabled: Set<String> = [], streamed: [Int: StreamedAppend])
        -> (bytes: [UInt8], change: SelectionChange)? {
        let command = tagged.command
        if let written = runSharableWrite(tagged, streamed: streamed) { return written }
        if let crossed = routeCrossCopy(tagged, utf8: utf8, enabled: enabled) { return crossed }
        if case .list(let list) = command, sharedIndex != nil, sharedPrefix == nil,
           !list.patterns.isEmpty, list.patterns.allSatisfy({ (list.reference + $0).starts(with: Array(Self.sharedNamespace.utf8)) }) {
            var w = ResponseWriter(capacity: 1024)
            w.utf8Allowed = utf8
            listShared(tagged.tag, list, into: &w)
            return (w.bytes, .none)
        }
        if let routed = runSharable(tagged, utf8: utf8) { return routed }
        if let name = Self.mailboxName(of: command), Self.isSharedName(name), sharedPrefix == nil {
            guard let shared = sharedSession(for: name) ?? sharableSession(for: name) else {
                for s in streamed.values { s.abort() }
                var w = ResponseWriter()
                w.tagged(tagged.tag, .no, .nonExistent, "Mailbox does not exist, or must be subscribed to.")
                return (w.bytes, .none)
            }
            shared.flushHook = flushHook
            if shared === sharedSelection, Self.opensMailbox(command), let (nick, folder) = sharableName(name) {
                // Opening a `shared.` folder again syncs it again (spec/access.md §1.7 (B)).
                sharable.sync(nick: nick, folder: folder)
            }
            let wasSelected = selected != nil || sharedSelection != nil
            var result = shared.run(tagged, utf8: utf8, enabled: enabled, streamed: streamed)
            switch command {
            case .select, .examine:
                deselect()
                sharedSelection = nil
                if case .selected = result.change {
                    sharedSelection = shared
                } else if wasSelected {
                    result.change = .deselected
                }
            default: break
            }
            return result
        }
        if let shared = sharedSelection {
            switch command {
            case .select, .examine:
                sharedSelection = nil
                return nil
            default:
                guard Self.actsOnSelection(command) else { return nil }
                shared.flushHook = flushHook
                let result = shared.run(tagged, utf8: utf8, enabled: enabled, streamed: streamed)
                if case .deselected = result.change { sharedSelection = nil }
                return result
            }
        }
        return nil
    }

    /// LIST under `#shared.`: every mailbox of every indexed account this user may look up.
    func listShared(_ tag: [UInt8], _ command: ListCommand, into w: inout ResponseWriter) {
        let keyword = command.isLSUB ? "LSUB" : "LIST"
        guard let index = sharedIndex else {
            w.tagged(tag, .ok, nil, "\(keyword) completed")
            return
        }
        var listed: [(name: String, selectable: Bool, owner: MailboxSession?, rights: ACLRights)] = []
        for location in index.accounts() {
            let prefix = Self.sharedNamespace + "." + location.prefix.joined(separator: ".")
            guard let shared = makeSharedSession(location, prefix: prefix) else { continue }
            shared.utf8 = utf8
            var visible: [(String, Bool, MailboxSession?, ACLRights)] = []
            for box in shared.allMailboxes() where box.selectable {
                let target: FolderName.IMAPTarget = box.folder.map { .folder($0) } ?? .inbox
                let rights = shared.myRights(target)
                guard rights.contains(ACLRights.lookup) else { continue }
                let name = box.folder.map { prefix + "." + (utf8 ? $0.name : ModifiedUTF7.encode($0.name)) } ?? prefix
                visible.append((name, true, shared, rights))
            }
            // Hierarchy levels above visible folders (the account, its groups, parent folders).
            var parents: [String] = []
            for (name, _, _, _) in visible {
                var parts = name.split(separator: ".").map(String.init)
                while parts.count > 1 {
                    parts.removeLast()
                    let parent = parts.joined(separator: ".")
                    if !visible.contains(where: { $0.0 == parent }) && !parents.contains(parent) { parents.append(parent) }
                }
            }
            listed += visible + parents.map { ($0, false, nil, ACLRights("")) }
        }
        // Nothing under `#shared.` is subscribed or has a special use (SUBSCRIBE and CREATE
        // take own names only), so those selection options select nothing here (RFC 5258 §3).
        let selectsNothing = command.subscribedOnly || command.specialUseOnly
        let names = listed.map(\.name)
        for box in listed.sorted(by: { $0.name < $1.name }) where !selectsNothing {
            let matched = command.patterns.contains { Self.matches(pattern: command.reference + $0, name: Array(box.name.utf8)) }
            guard matched else { continue }
            var attributes: [String] = box.selectable ? [] : ["\\Noselect"]
            attributes.append(names.contains { $0.hasPrefix(box.name + ".") } ? "\\HasChildren" : "\\HasNoChildren")
            w.append("* \(keyword) (" + attributes.joined(separator: " ") + ") \".\" ")
            w.mailbox(Array(box.name.utf8))
            w.crlf()
            if let owner = box.owner, box.selectable, !command.isLSUB {
                owner.writeListExtras(MailboxName(box.name), command, rights: box.rights, into: &w)
            }
        }
        w.tagged(tag, .ok, nil, "\(keyword) completed")
    }
}

extension MailboxSession {
    /// COPY and MOVE between the user's own mailboxes and a `#shared.` account's (either way, or
    /// between two accounts): the selected folder of `source`, into `name` of `destination`.
    /// COPY needs `i` on the target (RFC 4314 §4); MOVE also `t` and `e` on the source, whose
    /// folder must be writable (RFC 6851 §3.3, as a MOVE inside one account). The new files
    /// count toward the quota of the Maildir they land in (its owner's `maildirsize`), and
    /// the moved ones leave the source's.
    func copyAcross(_ tag: [UInt8], _ set: SequenceSet, uid: Bool, move: Bool, from source: MailboxSession,
                    to destination: MailboxSession, _ name: MailboxName, into w: inout ResponseWriter) {
        guard let s = source.selected else { return }
        let command = move ? "MOVE" : "COPY"
        if source.outOfRange(set, uid: uid) {
            w.tagged(tag, .bad, nil, "Message sequence number out of range")
            return
        }
        if destination.sharableRemote != nil {
            // A `shared.` folder: new messages go into the sharable folder; no MOVE there
            // (its expunge half is the source's, but the copies are not ours to take back).
            guard !move else {
                w.tagged(tag, .no, .cannot, "MOVE into a filesystem shared folder is not supported; use COPY.")
                return
            }
            destination.copyIntoSharable(tag, set, uid: uid, from: source, name, into: &w)
            return
        }
        guard let target = destination.target(name), destination.exists(target) else {
            w.tagged(tag, .no, .tryCreate, "Mailbox does not exist.")
            return
        }
        if move && s.readOnly {
            w.tagged(tag, .no, nil, "Current box is selected READ-ONLY.")
            return
        }
        guard destination.require(ACLRights.insert, on: target, command, Self.shown(name), tag, into: &w) else { return }
        if move && !source.selectedRights().contains("et") {
            let missing = source.selectedRights().contains(ACLRights.expunge) ? ACLRights.deleteMessages : ACLRights.expunge
            accessDenied("MOVE", "current mailbox", missing, tag, into: &w)
            return
        }
        if move, let refusal = source.sharableMoveRefusal(source.indices(set, uid: uid)) {
            w.tagged(tag, .no, .cannot, refusal)
            return
        }
        let dir = destination.directory(target)
        let chosen = source.indices(set, uid: uid)
        var adding: [(PendingMessage, MessageFlags)] = []
        var sourceUIDs: [UInt32] = []
        var movedIndices: [Int] = []
        var keywordLists: [[String]] = []
        do {
            for index in chosen where index < s.messages.count {
                let m = s.messages[index]
                guard let path = source.filePath(m),
                      let pending = try StoredMessageCopy.pending(copying: path, into: dir) else { continue }
                adding.append((pending, m.fileName.flags ?? MessageFlags()))
                sourceUIDs.append(m.uid)
                movedIndices.append(index)
                keywordLists.append(m.keywords)
            }
            let snapshot = try FolderScanner(folderPath: dir, trashFolderName: destination.maildir.trashFolderName).scan(adding: adding)
            var byUID: [UInt32: MessageFileName] = [:]
            for m in snapshot.messages { byUID[m.uid] = m.fileName }
            let keywords = KeywordStore(folderPath: dir)
            for (i, newUID) in snapshot.addedUIDs.enumerated() where i < keywordLists.count && !keywordLists[i].isEmpty {
                if let added = byUID[newUID] { try? keywords.update(baseName: added.baseName, keywords: keywordLists[i]) }
            }
            let code = ResponseCode.copyUID(uidValidity: snapshot.uidValidity, source: sourceUIDs, destination: snapshot.addedUIDs)
            if move {
                // RFC 6851 §4.3: COPYUID in an untagged OK, then the expunges, then the tagged OK.
                if !sourceUIDs.isEmpty { w.untaggedStatus(.ok, code, "Moved") }
                source.removeMovedFromSharable(movedIndices)
                source.expungeMoved(movedIndices, into: &w)
                w.tagged(tag, .ok, nil, "MOVE completed.")
            } else {
                w.tagged(tag, .ok, sourceUIDs.isEmpty ? nil : code, "COPY completed.")
            }
        } catch {
            Self.failedCommit(error, pending: adding.map(\.0), command, tag, into: &w)
        }
    }

    /// Routes a COPY/MOVE whose source and destination are in different accounts; nil otherwise.
    func routeCrossCopy(_ tagged: TaggedCommand, utf8: Bool, enabled: Set<String> = []) -> (bytes: [UInt8], change: SelectionChange)? {
        let set: SequenceSet, name: MailboxName, uid: Bool, move: Bool
        switch tagged.command {
        case .copy(let s, let n, let u): (set, name, uid, move) = (s, n, u, false)
        case .move(let s, let n, let u): (set, name, uid, move) = (s, n, u, true)
        default: return nil
        }
        let text = String(decoding: name.bytes, as: UTF8.self)
        let source: MailboxSession
        let destination: MailboxSession
        if let shared = sharedSelection {
            // From a shared folder: to another of the same account stays inside it.
            if shared.localName(text) != nil { return nil }
            if Self.isSharedName(name) {
                guard let other = sharedSession(for: name) ?? sharableSession(for: name) else { return nil }
                destination = other
            } else {
                destination = self
            }
            source = shared
        } else {
            guard selected != nil, Self.isSharedName(name),
                  let other = sharedSession(for: name) ?? sharableSession(for: name) else { return nil }
            source = self
            destination = other
        }
        var w = ResponseWriter(capacity: 256)
        w.utf8Allowed = utf8
        destination.utf8 = utf8
        // MOVE's expunges are reported as VANISHED to a QRESYNC client (RFC 7162 §3.2.10).
        if enabled.contains("QRESYNC") { source.qresync = true }
        copyAcross(tagged.tag, set, uid: uid, move: move, from: source, to: destination, name, into: &w)
        return (w.bytes, .none)
    }
}
