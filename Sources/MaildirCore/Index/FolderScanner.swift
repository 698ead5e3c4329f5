#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A message as a folder scan sees it.
public struct ScannedMessage: Hashable, Sendable {
    public var uid: UInt32
    public var fileName: MessageFileName
    /// Seen for the first time by this scan (moved from `new/`, or new in `cur/`): `\Recent`.
    public var isRecent: Bool
    /// `fileName.baseName`, made once by the scan (the key of the uid, keyword and index files).
    public var baseName: String
}

/// The state of a folder after a scan.
public struct FolderSnapshot: Hashable, Sendable {
    public var uidValidity: UInt32
    /// The next UID (including messages left in `new/` by a read-only scan).
    public var nextUID: UInt32
    /// Messages in `cur/`, in UID order.
    public var messages: [ScannedMessage]
    /// Messages still in `new/` (read-only scans only).
    public var leftInNew: Int
    /// UIDs given to the `adding` messages of the scan, in order.
    public var addedUIDs: [UInt32]
}

/// Courier-IMAP's folder scan (imap/imapscanclient.C, access.md §1.4): under the folder lock,
/// read `courierimapuiddb`, match it with `cur/`, move `new/` into `cur/`, give every new
/// message the next UID (in file-name order, so roughly arrival order), and write the database
/// back through `tmp/` when anything changed.
public struct FolderScanner: Sendable {
    public let folderPath: String
    public var trashFolderName: String

    public init(folderPath: String, trashFolderName: String = "Trash") {
        self.folderPath = folderPath
        self.trashFolderName = trashFolderName
    }

    public var databasePath: String { folderPath + "/courierimapuiddb" }

    /// Scans the folder.
    ///
    /// - `readOnly`: EXAMINE/STATUS: leave `new/` alone (only count it), never write the
    ///   database; without a database a provisional UIDVALIDITY is reported and not saved.
    /// - `adding`: messages to commit into `cur/` with these flags inside the lock, so that their
    ///   UIDs are known at once (UIDPLUS APPENDUID/COPYUID).
    public func scan(readOnly: Bool = false,
                     adding: [(PendingMessage, MessageFlags)] = []) throws(MaildirError) -> FolderSnapshot {
        if readOnly && adding.isEmpty {
            return try scanLocked(readOnly: true, adding: [])
        }
        return try MaildirLock.withLock(folderPath: folderPath) { () throws(MaildirError) -> FolderSnapshot in
            try scanLocked(readOnly: readOnly, adding: adding)
        }
    }

    private func scanLocked(readOnly: Bool, adding: [(PendingMessage, MessageFlags)]) throws(MaildirError) -> FolderSnapshot {
        let now = SystemCall.now().seconds
        // db.entries stays empty: the scan works from the parse's table (base name bytes →
        // UID), and writes the database back from the messages it found.
        var db: UIDDatabase
        var dirty = false
        // Base name → position in knownUIDs, over the names' bytes (no String per line).
        var known: ByteKeyTable
        var knownUIDs: [UInt32]
        let bytes = try SystemCall.readFile(databasePath, limit: 256 * 1024 * 1024)
        switch bytes.map({ UIDDatabase.parseIndexed($0) }) ?? .unusable(previousUIDValidity: nil) {
        case .valid(let index):
            db = UIDDatabase(uidValidity: index.uidValidity, nextUID: index.nextUID)
            dirty = index.droppedLines > 0
            known = index.names
            knownUIDs = index.uids
        case .unusable(let previous):
            db = UIDDatabase(uidValidity: UIDDatabase.newUIDValidity(time: now, previous: previous), nextUID: 1)
            dirty = true
            known = ByteKeyTable(capacity: adding.count)
            knownUIDs = []
        }

        let quota = MaildirQuota(folderPath: folderPath, trashFolderName: trashFolderName)
        var addedUIDs: [UInt32] = []
        func remember(_ base: String, _ uid: UInt32) {
            if let i = known.insert(base, value: Int32(truncatingIfNeeded: knownUIDs.count)) {
                knownUIDs[Int(i)] = uid
            } else {
                knownUIDs.append(uid)
            }
        }
        for (pending, flags) in adding {
            let delivered = try pending.commit(to: .cur(flags), quota: .enforce())
            let uid = try takeUID(&db)
            remember(delivered.fileName.baseName, uid)
            addedUIDs.append(uid)
            dirty = true
        }

        // cur/: keep the UIDs of known base names (each once: a second file with the same
        // base name is a new message).
        var messages: [ScannedMessage] = []
        var unknown: [MessageFileName] = []
        let addedSet = Set(addedUIDs)
        let curNames = try CurDirectoryLock.withLock(folderPath: folderPath, exclusive: true) { () throws(MaildirError) in
            SystemCall.names(in: folderPath + "/cur")
        }
        var seen = [Bool](repeating: false, count: knownUIDs.count)
        var seenCount = 0
        messages.reserveCapacity(curNames.count)
        for name in curNames where name.utf8.first != UInt8(ascii: ".") {
            let file = MessageFileName(name)
            let base = file.baseName
            if let i = known.value(for: base).map({ Int($0) }), !seen[i] {
                seen[i] = true
                seenCount += 1
                let uid = knownUIDs[i]
                messages.append(ScannedMessage(uid: uid, fileName: file, isRecent: addedSet.contains(uid), baseName: base))
            } else {
                unknown.append(file)
            }
        }
        if seenCount != known.count { dirty = true }
        // Base names of cur/ already given a UID here (known ones, then the new ones).
        var present = Set<String>()
        func isPresent(_ base: String) -> Bool {
            if let i = known.value(for: base), seen[Int(i)] { return true }
            return !present.insert(base).inserted
        }

        // new/: move into cur/ (one directory read), or just count.
        var leftInNew = 0
        if readOnly {
            leftInNew = SystemCall.names(in: folderPath + "/new").filter { $0.utf8.first != UInt8(ascii: ".") }.count
        } else {
            unknown.append(contentsOf: try NewToCur.move(folderPath: folderPath, quota: quota).map(MessageFileName.init))
        }

        // New messages in file-name order get the next UIDs.
        // (Keys computed once per name: comparing names directly re-decodes both each time.)
        unknown = unknown.map { (key: FileNameOrderKey($0.name), file: $0) }
            .sorted { $0.key < $1.key }
            .map(\.file)
        var provisional = db.nextUID
        for file in unknown {
            let base = file.baseName
            if isPresent(base) { continue }
            let uid: UInt32
            if readOnly {
                uid = provisional
                provisional &+= 1
            } else {
                uid = try takeUID(&db)
            }
            messages.append(ScannedMessage(uid: uid, fileName: file, isRecent: true, baseName: base))
            dirty = true
        }
        messages.sort { $0.uid < $1.uid }

        if dirty && !readOnly {
            db.entries = messages.map { UIDDatabase.Entry(uid: $0.uid, baseName: $0.baseName) }
            try write(db)
        }
        let nextUID = readOnly ? provisional &+ UInt32(truncatingIfNeeded: leftInNew) : db.nextUID
        return FolderSnapshot(uidValidity: db.uidValidity, nextUID: nextUID, messages: messages,
                              leftInNew: leftInNew, addedUIDs: addedUIDs)
    }

    private func takeUID(_ db: inout UIDDatabase) throws(MaildirError) -> UInt32 {
        // UIDs are 32-bit (RFC 3501 §2.3.1.1); running out needs a new UIDVALIDITY.
        guard db.nextUID < UInt32.max else { throw SystemCall.failure("uid", databasePath, EOVERFLOW) }
        let uid = db.nextUID
        db.nextUID += 1
        return uid
    }

    private func write(_ db: UIDDatabase) throws(MaildirError) {
        let t = SystemCall.now()
        let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_uiddb.\(UniqueName.escapeHost(SystemCall.hostName()))"
        try SystemCall.replaceFile(databasePath, temporaryPath: temporary, bytes: db.formatted(), mode: 0o644)
    }

    /// Courier's ordering of new messages: by the leading number (the delivery time), then by the
    /// bytes of the name up to the info part.
    public static func fileNameOrder(_ a: String, _ b: String) -> Bool {
        FileNameOrderKey(a) < FileNameOrderKey(b)
    }
}

/// The sort key of `FolderScanner.fileNameOrder`: the leading number and the name's bytes up to
/// the info part.
struct FileNameOrderKey: Comparable {
    var number: Int64
    var stem: ArraySlice<UInt8>

    init(_ name: String) {
        let bytes = Array(name.utf8)
        number = NumberText.parseSigned(bytes)?.0 ?? 0
        stem = bytes[..<(bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count)]
    }

    static func < (a: FileNameOrderKey, b: FileNameOrderKey) -> Bool {
        if a.number != b.number { return a.number < b.number }
        return a.stem.lexicographicallyPrecedes(b.stem)
    }
}
