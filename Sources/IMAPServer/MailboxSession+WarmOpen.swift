import Maildir
import MaildirCore

/// SELECT of a folder that did not change since the last full open, in a process that has not
/// opened it yet (a restarted server): the store's snapshot and the MODSEQs that open recorded
/// (`FolderIndex.openWithModSeqs`), without reading the mod-sequence log, computing flag
/// fingerprints or reconciling (issue 3: a warm open of 100,000 messages under 50 ms).
extension MailboxSession {
    /// The folder's list from the saved snapshot and MODSEQs when both are current (nil: open
    /// under the log's lock). Shared like the list `openShared` builds.
    func openWarm(_ dir: String, stamps: FolderIndex.Stamps, readOnly: Bool) -> SharedMessageList? {
        let keywordsOn = options.keywords
        var messages: [Message] = []
        // Each message straight from the files into the session's form. No message of a
        // snapshot is recent (the scan that saved it left nothing in new/).
        let opened = FolderIndex.openWithModSeqs(folderPath: dir, stamps: stamps, keywords: keywordsOn,
                                                 reserve: { messages.reserveCapacity($0) }) { m, modSeq in
            var message = Message(uid: m.uid, fileName: MessageFileName(m.fileName), recent: false,
                                  keywords: keywordsOn ? m.keywords : [], size: m.size,
                                  internalDate: m.internalDate, systemFlags: m.flags.rawValue)
            message.modSeq = modSeq
            messages.append(message)
        }
        guard let opened else { return nil }
        let list = SharedMessageList(uidValidity: opened.uidValidity, uidNext: opened.uidNext, messages: messages,
                                     highestModSeq: opened.highestModSeq)
        MemoryTrim.shared.request(messages: messages.count)
        // As in `openShared`: EXAMINE's list is shared only when nothing waits in new/.
        guard !readOnly || Self.newIsEmpty(dir) else { return list }
        if FolderIndex.settledStamps(folderPath: dir) == stamps {
            return SharedMessageLists.shared.put(folder: dir, stamps: stamps, keywords: keywordsOn, list)
        }
        return SharedMessageLists.shared.share(folder: dir, keywords: keywordsOn, list)
    }

    /// Records the MODSEQs of a list opened under the log's lock (`log`: where that transaction
    /// left the log) for the next process's `openWarm`.
    func saveModSeqs(_ dir: String, stamps: FolderIndex.Stamps, log: ModSeqLogPosition, _ list: SharedMessageList) {
        var uids: [UInt32] = [], modSeqs: [UInt64] = []
        uids.reserveCapacity(list.messages.count)
        modSeqs.reserveCapacity(list.messages.count)
        for m in list.messages {
            uids.append(m.uid)
            modSeqs.append(m.modSeq)
        }
        FolderIndex.saveModSeqs(folderPath: dir, stamps: stamps, log: log, keywords: options.keywords,
                                uidValidity: list.uidValidity, uids: uids, modSeqs: modSeqs, highest: list.highestModSeq)
    }
}
