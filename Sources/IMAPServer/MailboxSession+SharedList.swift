import MaildirCore

/// Going back to the folder's shared message list after a refresh (issue 6: memory per idle
/// session). A refresh that finds another session's change (or a delivery's) writes to the
/// session's array, which copies it (copy-on-write); the first session to finish such a
/// refresh publishes its view as the folder's current list, and every later one whose view
/// says exactly the same drops its copy and holds that list instead. A session keeps a
/// private copy only while its view differs: \Recent messages (RFC 3501 §2.3.2: they are this
/// session's), expunges it may not report yet (RFC 3501 §7.4.1), a flag change it made itself
/// and has not refreshed since. Sequence numbers, UIDs, flags and mod-sequences of the list it
/// takes are the ones it had, so the client sees no difference.
extension MailboxSession {
    /// Called at the end of `refresh`, with the messages the scan found on disk by UID.
    func shareAfterRefresh(onDisk: [UInt32: some Any]) {
        guard let s = selected else { return }
        // Already the folder's list (a refresh that found nothing new): nothing to compare.
        if let current = SharedMessageLists.shared.latest(folder: s.directory, keywords: options.keywords),
           Self.sameStorage(current.messages, s.messages) { return }
        // Everything on disk is in the view and nothing else (no unreported expunge), and no
        // message is \Recent: the view is the folder as any session would see it now.
        let publish = s.messages.count == onDisk.count && !s.messages.contains { $0.recent || onDisk[$0.uid] == nil }
        guard let list = SharedMessageLists.shared.adopt(
            folder: s.directory, keywords: options.keywords, messages: s.messages, uidValidity: s.uidValidity,
            uidNext: s.nextUID, highestModSeq: s.highestModSeq, publish: publish) else { return }
        if !Self.sameStorage(list.messages, s.messages) { selected?.messages = list.messages }
        if list.keywordsInUse == s.keywordsInUse { selected?.keywordsInUse = list.keywordsInUse }
    }

    /// Whether two arrays are one buffer.
    static func sameStorage(_ a: [Message], _ b: [Message]) -> Bool {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress && x.count == y.count } }
    }

    /// Whether a session holding `a` would answer every command as one holding `b`: the same
    /// messages in the same order with the same file names (flags), keywords, \Recent and
    /// mod-sequences. RFC822.SIZE and INTERNALDATE are not compared: a message's bytes never
    /// change, and an unknown one (-1) is measured from the file when asked.
    static func sameView(_ a: [Message], _ b: [Message]) -> Bool {
        guard a.count == b.count else { return false }
        if sameStorage(a, b) { return true }
        for (x, y) in zip(a, b) {
            guard x.uid == y.uid, x.recent == y.recent, x.modSeq == y.modSeq, x.fileName == y.fileName,
                  x.keywords == y.keywords else { return false }
        }
        return true
    }

    /// Fills unknown sizes and dates in `messages` from `known` (both in UID order); writes
    /// (and so copies a shared array) only when there is something to fill.
    static func copySizes(from known: [Message], into messages: inout [Message]) {
        var fills: [(Int, Int64, Int64)] = []
        var k = 0
        for (i, m) in messages.enumerated() where m.size < 0 || m.internalDate < 0 {
            while k < known.count && known[k].uid < m.uid { k += 1 }
            guard k < known.count else { break }
            if known[k].uid == m.uid, known[k].size >= 0 || known[k].internalDate >= 0 {
                fills.append((i, known[k].size, known[k].internalDate))
            }
        }
        for (i, size, date) in fills {
            if messages[i].size < 0 { messages[i].size = size }
            if messages[i].internalDate < 0 { messages[i].internalDate = date }
        }
    }
}
