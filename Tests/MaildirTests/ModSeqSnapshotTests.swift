#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Testing
@testable import Maildir

/// `courierswiftsnapmodseq`: a warm open's MODSEQs without the log, trusted only while the
/// folder's stamps, the log's inode and length, the boot and the keyword setting are unchanged.
@Suite struct ModSeqSnapshotTests {
    /// Every stamp of the folder `seconds` in the past (settled).
    func settle(_ root: String, by seconds: Int = 10) {
        let t = Int(time(nil)) - seconds
        for p in ["/cur", "/new", "/courierimapuiddb", "/courierimapkeywords"] {
            var times = [timespec(tv_sec: t, tv_nsec: 0), timespec(tv_sec: t, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, root + p, &times, 0)
        }
    }

    /// A folder with `count` messages, scanned once (uid database written, new/ emptied),
    /// settled, and opened again so that `courierswiftsnapshot` holds its settled stamps.
    func preparedFolder(_ scratch: Scratch, count: Int = 3) throws -> (String, FolderIndex.Stamps, MailboxSnapshot) {
        let root = try scratch.maildir()
        for i in 0..<count { try deliver("Subject: m\(i)\n\nbody \(i)\n", to: root) }
        _ = try FolderIndex.open(folderPath: root, trashFolderName: "Trash", readOnly: false)
        settle(root)
        let snapshot = try FolderIndex.open(folderPath: root, trashFolderName: "Trash", readOnly: false)
        let stamps = try #require(FolderIndex.settledStamps(folderPath: root))
        #expect(SystemCall.exists(root + "/courierswiftsnapshot"))
        return (root, stamps, snapshot)
    }

    /// What an IMAP open does: reconcile under the log's lock, then record the result.
    @discardableResult
    func openAndRecord(_ root: String, _ stamps: FolderIndex.Stamps, _ snapshot: MailboxSnapshot,
                       keywords: Bool = true) throws -> ([UInt64], UInt64) {
        let log = FolderModSeqs(folderPath: root)
        let ((modSeqs, highest), position) = log.transactionReportingLog { t in
            let fps = snapshot.messages.map { ModSeqFingerprint.of(fileName: $0.fileName, keywords: keywords ? $0.keywords : []) }
            return (t.reconcile(uidValidity: snapshot.uidValidity, uids: snapshot.messages.map(\.uid), fingerprints: fps), t.highest)
        }
        let at = try #require(position)
        #expect(at == ModSeqLogPosition.current(folderPath: root))
        FolderIndex.saveModSeqs(folderPath: root, stamps: stamps, log: at, keywords: keywords,
                                uidValidity: snapshot.uidValidity, uids: snapshot.messages.map(\.uid),
                                modSeqs: modSeqs, highest: highest)
        return (modSeqs, highest)
    }

    @Test func aWarmOpenGivesTheRecordedModSeqsWithoutTheLog() throws {
        let scratch = Scratch()
        let (root, stamps, snapshot) = try preparedFolder(scratch)
        let (modSeqs, highest) = try openAndRecord(root, stamps, snapshot)
        let warm = try #require(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true))
        #expect(warm.snapshot == snapshot)
        #expect(warm.modSeqs == modSeqs)
        #expect(warm.highestModSeq == highest)
        #expect(modSeqs.allSatisfy { $0 > 0 && $0 <= highest })
        // The same numbers a slow open (log read, reconcile) gives in a fresh process.
        let again = FolderModSeqs(folderPath: root).transaction { t in
            t.reconcile(uidValidity: snapshot.uidValidity, uids: snapshot.messages.map(\.uid),
                        fingerprints: snapshot.messages.map { ModSeqFingerprint.of(fileName: $0.fileName, keywords: $0.keywords) })
        }
        #expect(again == modSeqs)
        // Another keyword setting fingerprints differently: not used.
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: false) == nil)
    }

    @Test func anythingRecordedInTheLogSinceMeansTheSlowOpen() throws {
        let scratch = Scratch()
        let (root, stamps, snapshot) = try preparedFolder(scratch)
        let (_, highest) = try openAndRecord(root, stamps, snapshot)
        // Another process records a change (a STORE whose rename is not visible in the stamps).
        let other = FolderModSeqs(folderPath: root)
        let next = other.transaction { t in t.record(changed: [(uid: snapshot.messages[0].uid, fingerprint: 99)]) }
        #expect(next > highest)
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true) == nil)
        // The slow open records again; then the warm open gives the new numbers.
        let (modSeqs, newHighest) = try openAndRecord(root, stamps, snapshot)
        #expect(newHighest >= next)
        let warm = try #require(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true))
        #expect(warm.modSeqs == modSeqs && warm.highestModSeq == newHighest)
        // A compaction (a new inode, the same content) is a change too.
        let log = try #require(try SystemCall.readFile(root + "/courierswiftmodseq"))
        writeBytes(root + "/tmp/compacted", log)
        #expect(rename(root + "/tmp/compacted", root + "/courierswiftmodseq") == 0)
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true) == nil)
        // No log at all: nothing to trust.
        unlink(root + "/courierswiftmodseq")
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true) == nil)
    }

    @Test func aChangedFolderMeansTheSlowOpen() throws {
        let scratch = Scratch()
        let (root, stamps, snapshot) = try preparedFolder(scratch)
        try openAndRecord(root, stamps, snapshot)
        // A delivery by another program: new stamps, which the saved numbers were not made for.
        try deliver("Subject: late\n\n", to: root)
        settle(root, by: 5)
        let now = try #require(FolderIndex.settledStamps(folderPath: root))
        #expect(now != stamps)
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: now, keywords: true) == nil)
        // The file's header still names the old stamps.
        let bytes = try #require(try SystemCall.readFile(root + "/" + ModSeqSnapshot.fileName))
        let key = ModSeqSnapshot.Key(stamps: stamps.value, log: try #require(ModSeqLogPosition.current(folderPath: root)),
                                     boot: BootID.current, keywords: true)
        #expect(bytes.withUnsafeBytes { ModSeqSnapshot.header($0, matching: key) } != nil)
    }

    static let key = ModSeqSnapshot.Key(stamps: DirectoryStamps(cur: 1, new: 2, keywords: 3, database: 4, databaseInode: 5),
                                        log: ModSeqLogPosition(inode: 6, length: 7, modified: 11), boot: BootID(high: 8, low: 9),
                                        keywords: true)
    static let snapshot = MailboxSnapshot(uidValidity: 77, uidNext: 9, messages: [
        MessageInfo(uid: 1, fileName: "1.M1P1.h:2,S", flags: .seen, keywords: [], size: 12, internalDate: 100, isRecent: false),
        MessageInfo(uid: 4, fileName: "2.M2P1.h:2,F", flags: .flagged, keywords: ["Work"], size: 5, internalDate: 1, isRecent: false),
        MessageInfo(uid: 8, fileName: "3.M3P1.h:2,", flags: [], keywords: [], size: 7, internalDate: 2, isRecent: false),
    ])

    func decode(_ bytes: [UInt8], key: ModSeqSnapshot.Key = Self.key, snapshot: MailboxSnapshot = Self.snapshot)
        -> (modSeqs: [UInt64], highest: UInt64)? {
        bytes.withUnsafeBytes { ModSeqSnapshot.decode($0, matching: key, snapshot: snapshot) }
    }

    @Test func binaryRoundTripAndEveryKeyPartMatters() throws {
        let bytes = try #require(ModSeqSnapshot.encode(Self.key, highest: 90, uidValidity: 77, uids: [1, 4, 8], modSeqs: [90, 3, 88]))
        let decoded = try #require(decode(bytes))
        #expect(decoded.modSeqs == [90, 3, 88] && decoded.highest == 90)
        var others: [ModSeqSnapshot.Key] = []
        var k = Self.key
        k.stamps.cur += 1; others.append(k); k = Self.key
        k.stamps.databaseInode += 1; others.append(k); k = Self.key
        k.log.inode += 1; others.append(k); k = Self.key
        k.log.length += 1; others.append(k); k = Self.key
        k.log.modified += 1; others.append(k); k = Self.key
        k.boot = BootID(high: 8, low: 10); others.append(k); k = Self.key   // the machine restarted
        k.boot = nil; others.append(k); k = Self.key
        k.keywords = false; others.append(k)
        for other in others { #expect(decode(bytes, key: other) == nil) }
        // Other UIDs, another UIDVALIDITY, another count: not these messages.
        var moved = Self.snapshot
        moved.messages[1].uid = 5
        #expect(decode(bytes, snapshot: moved) == nil)
        var renewed = Self.snapshot
        renewed.uidValidity = 78
        #expect(decode(bytes, snapshot: renewed) == nil)
        var fewer = Self.snapshot
        fewer.messages.removeLast()
        #expect(decode(bytes, snapshot: fewer) == nil)
    }

    @Test func everyTruncationAndByteFlipIsRefused() throws {
        let bytes = try #require(ModSeqSnapshot.encode(Self.key, highest: 90, uidValidity: 77, uids: [1, 4, 8], modSeqs: [90, 3, 88]))
        for n in 0..<bytes.count { #expect(decode(Array(bytes[..<n])) == nil, "cut at \(n)") }
        #expect(decode(bytes + [0]) == nil)
        for i in bytes.indices {
            var flipped = bytes
            flipped[i] ^= 0x10
            #expect(decode(flipped) == nil, "byte \(i)")
        }
    }

    /// Files that check out but cannot be right (a MODSEQ of 0 or above HIGHESTMODSEQ), other
    /// versions and junk are refused.
    @Test func inconsistentOldAndJunkFilesAreRefused() throws {
        let zero = try #require(ModSeqSnapshot.encode(Self.key, highest: 90, uidValidity: 77, uids: [1, 4, 8], modSeqs: [0, 3, 88]))
        #expect(decode(zero) == nil)
        let above = try #require(ModSeqSnapshot.encode(Self.key, highest: 90, uidValidity: 77, uids: [1, 4, 8], modSeqs: [91, 3, 88]))
        #expect(decode(above) == nil)
        var older = try #require(ModSeqSnapshot.encode(Self.key, highest: 90, uidValidity: 77, uids: [1, 4, 8], modSeqs: [1, 3, 88]))
        older[7] = UInt8(ascii: "0")   // "CSWMSEQ0": another version
        #expect(decode(older) == nil)
        for junk in ["", "CSWMSEQ1", "courierswiftsnapshot 1\n", String(repeating: "x", count: 200)] {
            #expect(decode(Array(junk.utf8)) == nil)
        }
        #expect(ModSeqSnapshot.encode(Self.key, highest: 1, uidValidity: 1, uids: [1, 2], modSeqs: [1]) == nil)
    }

    @Test func aDamagedFileOnDiskMeansTheSlowOpenWhichRewritesIt() throws {
        let scratch = Scratch()
        let (root, stamps, snapshot) = try preparedFolder(scratch)
        let (modSeqs, _) = try openAndRecord(root, stamps, snapshot)
        let path = root + "/" + ModSeqSnapshot.fileName
        var bytes = try #require(try SystemCall.readFile(path))
        bytes[bytes.count - 1] ^= 1
        writeBytes(path, bytes)
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true) == nil)
        try openAndRecord(root, stamps, snapshot)
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true)?.modSeqs == modSeqs)
        // A damaged folder snapshot is refused as well, whatever the MODSEQ file says.
        writeFile(root + "/courierswiftsnapshot", "CSWSNAP2 junk")
        #expect(FolderIndex.openWithModSeqs(folderPath: root, stamps: stamps, keywords: true) == nil)
    }
}
