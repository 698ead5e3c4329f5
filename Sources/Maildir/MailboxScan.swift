#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// Per-message facts that never change while a message keeps its base name: the CRLF size
/// and the internal date. Cached by base name so that a rescan only stats new files.
struct MessageFacts: Hashable, Sendable {
    var size: Int64
    var internalDate: Int64
}

/// The synchronous scan behind `Mailbox.open`/`refresh` (runs on the store's thread pool):
/// Courier's uid scan (`FolderScanner`, access.md §1.4), then the keywords, then sizes and
/// dates of messages not seen before.
struct MailboxScan {
    let folderPath: String
    let trashFolderName: String

    /// Scans and returns the snapshot, the UIDs this scan saw first (`\Recent`), and the
    /// updated facts cache (entries of vanished messages dropped; empty unless `keepFacts`
    /// or the index was rewritten).
    ///
    /// Fast path: when the folder's `DirectoryStamps` (taken before scanning) equal those of
    /// `previous` (this session's last scan) or of the `courierswiftsnapshot` cache, and are
    /// settled, nothing can have changed and the scan is skipped.
    func scan(readOnly: Bool, facts: [String: MessageFacts], previous: (DirectoryStamps, MailboxSnapshot)? = nil,
              adding: [(PendingMessage, MessageFlags)] = [], keepFacts: Bool = true) throws(MailStoreError)
        -> (snapshot: MailboxSnapshot, recent: [UInt32], facts: [String: MessageFacts], added: [UInt32], stamps: DirectoryStamps?) {
        let stamps = adding.isEmpty ? DirectoryStamps.read(folderPath) : nil
        if let stamps, stamps.isSettled() {
            if let previous, previous.0 == stamps {
                return (previous.1, [], facts, [], stamps)
            }
            if previous == nil, let cached = SnapshotCache(folderPath: folderPath).load(matching: stamps) {
                // No facts table: a later rescan that needs one reads `courierswiftindex`
                // (building it here by base name cost as much as the whole warm open).
                return (cached, [], [:], [], stamps)
            }
        }
        let scanner = FolderScanner(folderPath: folderPath, trashFolderName: trashFolderName)
        let folder = try MailStoreError.wrap { () throws(MaildirError) in try scanner.scan(readOnly: readOnly, adding: adding) }
        // Each base name made once (the uid database, the keywords and the index are keyed by it).
        let bases = folder.messages.map(\.baseName)
        let keywords = try loadKeywords(existing: { Set(bases) })
        var found: [(base: String, facts: MessageFacts)] = []
        found.reserveCapacity(folder.messages.count)
        var messages: [MessageInfo] = []
        messages.reserveCapacity(folder.messages.count)
        var recent: [UInt32] = []
        // The in-memory cache of the session first, then the folder's index file.
        var indexed = facts.isEmpty ? FactsIndex(folderPath: folderPath).load() : nil
        let cachedCount = indexed?.count ?? facts.count
        var measuredAny = false
        for (m, base) in zip(folder.messages, bases) {
            let f: MessageFacts
            let cached = indexed != nil ? indexed?.facts(for: base) : facts[base]
            if let known = cached {
                f = known
            } else if let measured = Self.measure(folderPath + "/cur/" + m.fileName.name, name: m.fileName) {
                f = measured
                measuredAny = true
            } else {
                continue   // vanished between the scan and the stat: gone
            }
            found.append((base, f))
            if m.isRecent { recent.append(m.uid) }
            messages.append(MessageInfo(uid: m.uid, fileName: m.fileName.name,
                                        flags: Self.systemFlags(m.fileName.name),
                                        keywords: keywords.messages.isEmpty ? [] : keywords.messages[base] ?? [],
                                        size: f.size, internalDate: f.internalDate, isRecent: m.isRecent))
        }
        let saveIndex = !readOnly && (measuredAny || (facts.isEmpty && found.count != cachedCount))
        // The facts table by base name, only when someone needs it (a caller that keeps it for
        // its next rescan, or the index file to write).
        var newFacts: [String: MessageFacts] = [:]
        if keepFacts || saveIndex {
            newFacts.reserveCapacity(found.count)
            for (base, f) in found { newFacts[base] = f }
        }
        if saveIndex {
            // In UID order: the next rescan looks the names up in that order.
            FactsIndex(folderPath: folderPath).save(ordered: found.map { (name: $0.base, facts: $0.facts) })
        }
        let snapshot = MailboxSnapshot(uidValidity: folder.uidValidity, uidNext: folder.nextUID, messages: messages)
        if !readOnly, folder.leftInNew == 0, let stamps, stamps.isSettled() {
            SnapshotCache(folderPath: folderPath).save(snapshot, stamps: stamps)
        }
        return (snapshot, recent, newFacts, folder.addedUIDs, stamps)
    }

    /// The system flags of a file name's `:2,` letters (none without that info part), read
    /// from the name's bytes in place (`MessageFileName.flags` makes a String of the info).
    static func systemFlags(_ name: String) -> SystemFlags {
        let fromBytes = name.utf8.withContiguousStorageIfAvailable { b -> SystemFlags in
            guard let colon = b.firstIndex(of: 0x3A), colon + 2 < b.count, b[colon + 1] == 0x32, b[colon + 2] == 0x2C else {
                return []
            }
            return SystemFlags(MessageFlags(letters: UnsafeBufferPointer(rebasing: b[(colon + 3)...])))
        }
        return fromBytes ?? SystemFlags(MessageFileName(name).flags ?? MessageFlags())
    }

    /// The keywords of the folder, merging pending updates under the folder lock (a folder
    /// without `courierimapkeywords/` has none and needs no lock).
    func loadKeywords(existing: () -> Set<String>) throws(MailStoreError) -> KeywordList {
        let store = KeywordStore(folderPath: folderPath)
        guard SystemCall.isDirectory(store.directoryPath) else { return KeywordList() }
        let names = existing()
        return try MailStoreError.wrap { () throws(MaildirError) in
            try MaildirLock.withLock(folderPath: folderPath) { () throws(MaildirError) in
                try store.load(existing: names)
            }
        }
    }

    /// stat()s a message: mtime as the internal date; the CRLF size from `,W=`, else the file
    /// size plus one byte per bare LF (Courier stores LF line ends, IMAP counts CRLF).
    static func measure(_ path: String, name: MessageFileName) -> MessageFacts? {
        let fd = MessageFileAccess.open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let date = Int64(st.st_mtim.tv_sec)
        if let w = name.virtualSizeHint, w >= 0 { return MessageFacts(size: w, internalDate: date) }
        return MessageFacts(size: Mailbox.crlfSize(fd: fd), internalDate: date)
    }

    /// Converts a message with CRLF (or mixed) line ends to LF, as Courier stores it.
    static func toLF(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A {
                i += 1
                continue
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }
}

extension Mailbox {
    /// Counts the bytes of an open file, from its current offset, as they would be sent with
    /// CRLF line ends (RFC822.SIZE), reading it in pieces.
    public static func crlfSize(fd: Int32) -> Int64 {
        var total: Int64 = 0
        var previous: UInt8 = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            total += Int64(n)
            for i in 0..<n {
                let b = buffer[i]
                if b == 0x0A && previous != 0x0D { total += 1 }
                previous = b
            }
        }
        return total
    }
}
