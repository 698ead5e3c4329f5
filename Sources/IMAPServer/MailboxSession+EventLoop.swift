import IMAP
import MaildirCore

/// The commands a session can answer on its event loop, without the thread-pool round trip
/// (issue 6: on a quiet machine the two context switches were most of a SELECT's latency):
///
/// - SELECT/EXAMINE of the folder this session last opened, when its `FolderGenerations`
///   generation is still the one it was read under: the same rights and the same shared
///   message list, so the same answer the disk would give;
/// - UID FETCH of one message's `BODY.PEEK[]` (with UID, FLAGS) while the view is in step with
///   the folder, when the file can be read without waiting for the disk (`CachedFileRead`).
///
/// `prepareOnEventLoop` decides, and pins what it checked (`onEventLoop`, `preloaded`) for the
/// `run` that follows, so that `run` never reaches a blocking call.
extension MailboxSession {
    /// What a SELECT found, kept to answer the next SELECT of the same name.
    struct SelectMemo {
        var name: [UInt8]
        var utf8: Bool
        /// EXAMINE (the client asked for read-only).
        var examine: Bool
        var generation: FolderGeneration
        var rights: ACLRights
        var list: SharedMessageList
        var lastStamp: [Int64]
    }

    /// After a SELECT: keeps what it read when the folder did not change meanwhile (same
    /// generation now), no message is \Recent (that belongs to one SELECT only), and the
    /// rights come from a file in the folder's own directory, which the generation watches
    /// (INBOX without one has the default rights; a folder without one inherits its parent's).
    func remember(selectOf name: MailboxName, examine: Bool, target: FolderName.IMAPTarget, directory: String,
                  generation: FolderGeneration, rights: ACLRights, list: SharedMessageList, fromMemo: Bool) {
        if fromMemo {
            // Checked on this event loop just now; a change since shows at the next check. The
            // memo's list is the folder's shared one: nothing to share again.
            syncedGeneration = generation
            sharingTriedGeneration = generation
            return
        }
        selectMemo = nil   // older than this SELECT's generation: stale in any case
        guard let generations = FolderGenerations.shared, generations.isCurrent(generation) else { return }
        syncedGeneration = generation
        if shareListAgain() { sharingTriedGeneration = generation }
        guard list.recentCount == 0, fixedRights == nil, sharedPrefix == nil, ownerOverride == nil else { return }
        if case .folder = target, SystemCall.status(directory + "/" + FolderACLStore.fileName) == nil { return }
        selectMemo = SelectMemo(name: name.bytes, utf8: utf8, examine: examine, generation: generation, rights: rights, list: list, lastStamp: lastStamp)
    }

    /// Forgets a memo whose folder changed since (generations only move on, so it can never
    /// answer again): the message list it holds may be one no other session uses any more.
    func dropStaleSelectMemo() {
        if let memo = selectMemo, FolderGenerations.shared?.isCurrent(memo.generation) != true { selectMemo = nil }
    }

    /// Whether `run` can answer this command on the event loop (see the type's comment); when
    /// true, `run` must follow at once. Never blocks: the only system calls are a non-blocking
    /// read of the inotify descriptor and, for a body, `CachedFileRead`.
    func prepareOnEventLoop(_ tagged: TaggedCommand, utf8: Bool) -> Bool {
        onEventLoop = false
        preloaded = nil
        guard sharedSelection == nil, sharedPrefix == nil, let generations = FolderGenerations.shared else { return false }
        switch tagged.command {
        case .select(let name, let parameters), .examine(let name, let parameters):
            var examine = false
            if case .examine = tagged.command { examine = true }
            // IMAP4rev2's SELECT lists the folder (a directory read); QRESYNC answers from modseqs.
            dropStaleSelectMemo()
            guard parameters == SelectParameters(), !rev2, let memo = selectMemo, memo.name == name.bytes,
                  memo.utf8 == utf8, memo.examine == examine, !Self.isSharedName(name) else { return false }
        case .fetch(let set, let attributes, let modifiers, uid: true):
            // One UID (`UID FETCH 1:* (FLAGS)` over a big folder is the pool's: no list of
            // every index built here only to be turned down).
            guard !set.isSavedResult, set.ranges.count == 1, set.ranges[0].lowerBound == set.ranges[0].upperBound,
                  modifiers == FetchModifiers(), let s = selected, let synced = syncedGeneration,
                  sharingTriedGeneration == synced else { return false }
            var wantsBody = false
            for attribute in attributes {
                switch attribute {
                case .uid, .flags: continue
                case .bodySection(let section, nil, peek: true) where section == Section():
                    wantsBody = true
                default:
                    return false
                }
            }
            guard generations.isCurrent(synced) else { return false }
            let chosen = indices(set, uid: true)
            guard chosen.count <= 1 else { return false }
            if wantsBody, let index = chosen.first {
                let m = s.messages[index]
                guard let bytes = CachedFileRead.read(s.directory + "/cur/" + m.fileName.name,
                                                      limit: Self.streamedBodyThreshold) else { return false }
                preloaded = (m.uid, bytes)
            }
        default:
            return false
        }
        onEventLoop = true
        return true
    }
}
