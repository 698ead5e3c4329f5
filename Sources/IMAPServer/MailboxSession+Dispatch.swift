import IMAP
import MaildirCore

extension MailboxSession {
    /// Runs one command the session state machine handed over (`.mailbox`); returns the
    /// response bytes and what changed in the selection. Blocking file I/O: thread pool only.
    /// `enabled`: the connection's ENABLEd extensions (RFC 5161; CONDSTORE and QRESYNC matter here).
    func run(_ tagged: TaggedCommand, utf8: Bool, enabled: Set<String> = [],
             streamed: [Int: StreamedAppend] = [:]) -> (bytes: [UInt8], change: SelectionChange) {
        self.utf8 = utf8
        if enabled.contains("QRESYNC") { qresync = true }
        if let shared = runShared(tagged, utf8: utf8, enabled: enabled, streamed: streamed) { return shared }
        var w = ResponseWriter(capacity: 1024)
        w.utf8Allowed = utf8
        let tag = tagged.tag
        var change = SelectionChange.none
        if enabled.contains("CONDSTORE") || qresync {
            if case .enable = tagged.command { enableCondStore(into: &w) } else { condStore = true }
        }
        if Self.enablesCondStore(tagged.command) { enableCondStore(into: &w) }
        switch tagged.command {
        case .enable:
            w.tagged(tag, .ok, nil, "Options enabled")
        case .select(let name, let parameters), .examine(let name, let parameters):
            var readOnly = false
            if case .examine = tagged.command { readOnly = true }
            if parameters.qresync != nil && !qresync {
                w.tagged(tag, .bad, nil, "QRESYNC needs ENABLE QRESYNC first")   // RFC 7162 §3.2.5
                break
            }
            if let q = parameters.qresync, !Self.validSeqMatch(q) {
                w.tagged(tag, .bad, nil, "QRESYNC seq-match-data needs as many UIDs as message numbers")
                break
            }
            change = select(tag, name, readOnly: readOnly, parameters: parameters, into: &w)
        case .noop, .check:
            refresh(into: &w, allowExpunge: true)
            w.tagged(tag, .ok, nil, "\(tagged.command.name) completed")
        case .close:
            if selectedRights().contains(ACLRights.expunge) { _ = expunge(silent: true, into: &w) }
            deselect()
            change = .deselected
            w.tagged(tag, .ok, nil, "mailbox closed.")
        case .unselect:
            deselect()
            change = .deselected
            w.tagged(tag, .ok, nil, "UNSELECT completed")
        case .expunge:
            if selected?.readOnly == true {
                w.tagged(tag, .no, nil, "Current box is selected READ-ONLY.")
            } else if !selectedRights().contains(ACLRights.expunge) {
                accessDenied("EXPUNGE", "current mailbox", ACLRights.expunge, tag, into: &w)
            } else {
                _ = expunge(into: &w)
                w.tagged(tag, .ok, modSeqCode, "EXPUNGE completed")
            }
        case .uidExpunge(let set):
            if selected?.readOnly == true {
                w.tagged(tag, .no, nil, "Current box is selected READ-ONLY.")
            } else if !selectedRights().contains(ACLRights.expunge) {
                accessDenied("EXPUNGE", "current mailbox", ACLRights.expunge, tag, into: &w)
            } else {
                _ = expunge(only: set, into: &w)
                w.tagged(tag, .ok, modSeqCode, "EXPUNGE completed")
            }
        case .fetch(let set, let attributes, let modifiers, let uid):
            refreshIfUID(uid, into: &w)
            fetch(tag, set, attributes, uid: uid, modifiers: modifiers, into: &w)
        case .store(let set, let unchangedSince, let action, let uid):
            store(tag, set, action, uid: uid, unchangedSince: unchangedSince, into: &w)
        case .search(let command, let uid):
            search(tag, command, uid: uid, into: &w)
        case .copy(let set, let name, let uid):
            copy(tag, set, to: name, uid: uid, move: false, into: &w)
        case .move(let set, let name, let uid):
            copy(tag, set, to: name, uid: uid, move: true, into: &w)
        case .sort(let criteria, _, let key, let uid):
            sort(tag, criteria, key, uid: uid, into: &w)
        case .thread(let algorithm, _, let key, let uid):
            thread(tag, algorithm: algorithm, key, uid: uid, into: &w)
        case .create(let name, let uses): create(tag, name, specialUse: uses, into: &w)
        case .delete(let name):
            let wasSelected = selected != nil
            delete(tag, name, into: &w)
            if wasSelected && selected == nil { change = .deselected }
        case .rename(let from, let to): rename(tag, from, to, into: &w)
        case .subscribe(let name): subscribe(tag, name, subscribe: true, into: &w)
        case .unsubscribe(let name): subscribe(tag, name, subscribe: false, into: &w)
        case .list(let command): list(tag, command, into: &w)
        case .status(let name, let items): status(tag, name, items, into: &w)
        case .append(let name, let messages): append(tag, name, messages, streamed: streamed, into: &w)
        case .getQuotaRoot(let name): quota(tag, root: true, name: name, into: &w)
        case .getQuota: quota(tag, root: false, name: nil, into: &w)
        case .myRights(let name): myRightsCommand(tag, name, into: &w)
        case .getACL(let name): getACL(tag, name, into: &w)
        case .listRights(let name, let identifier): listRights(tag, name, identifier, into: &w)
        case .setACL(let name, let identifier, let rights): setACL(tag, name, identifier, rights, into: &w)
        case .deleteACL(let name, let identifier): setACL(tag, name, identifier, nil, into: &w)
        default:
            w.tagged(tag, .bad, nil, "Command not handled")
        }
        forgetMessage()
        return (w.bytes, change)
    }

    /// `[HIGHESTMODSEQ n]` for the tagged OK of EXPUNGE in a CONDSTORE session (RFC 7162
    /// §3.2.10: the client cannot see an expunge's mod-sequence otherwise).
    private var modSeqCode: ResponseCode? {
        guard condStore, let s = selected else { return nil }
        return .highestModSeq(s.highestModSeq)
    }

    /// UID commands may report new messages first (RFC 3501 §7.4.1 forbids only EXPUNGE).
    private func refreshIfUID(_ uid: Bool, into w: inout ResponseWriter) {
        guard uid else { return }
        // The folder's inotify generation is the one this view was synchronised at: nothing a
        // client sees changed (no stat at all; on the event loop this was checked just now).
        if selected != nil, let synced = syncedGeneration,
           onEventLoop || FolderGenerations.shared?.isCurrent(synced) == true {
            if sharingTriedGeneration != synced, shareListAgain() { sharingTriedGeneration = synced }
            return
        }
        // Nothing on disk changed since the last scan (same directory stamps, and old enough that
        // a change in the same clock tick would have shown): a rescan would find the same.
        if let s = selected, !lastStamp.isEmpty, Self.stamp(s.directory) == lastStamp,
           Self.isSettled(lastStamp) {
            shareListAgain()
            return
        }
        refresh(into: &w, allowExpunge: false)
    }

    /// Changes for an IDLE client (RFC 2177); empty when nothing changed.
    func idleUpdates() -> [UInt8] {
        if let shared = sharedSelection { return shared.idleUpdates() }
        guard let s = selected, Self.stamp(s.directory) != lastStamp else {
            shareListAgain()
            return []
        }
        var w = ResponseWriter()
        w.utf8Allowed = utf8
        refresh(into: &w, allowExpunge: true)
        forgetMessage()
        return w.bytes
    }
}
