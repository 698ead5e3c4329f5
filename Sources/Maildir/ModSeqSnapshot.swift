#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// Where the folder's mod-sequence log `courierswiftmodseq` stood: its inode, length and
/// modification time. Every change to the log (an append, a truncation of a torn record, a
/// compaction by rename) changes the length or the inode, and the time as well, so an equal
/// position means that nothing was recorded since.
public struct ModSeqLogPosition: Hashable, Sendable {
    public var inode: UInt64
    public var length: Int64
    /// mtime in ns (a later file that got the same inode number and length still differs here).
    public var modified: Int64

    public init(inode: UInt64, length: Int64, modified: Int64) {
        self.inode = inode
        self.length = length
        self.modified = modified
    }

    /// The log's position now (one `stat`); nil when there is no log.
    public static func current(folderPath: String) -> ModSeqLogPosition? {
        guard let st = SystemCall.status(folderPath + "/" + FolderModSeqs.fileName) else { return nil }
        return ModSeqLogPosition(inode: UInt64(st.st_ino), length: Int64(st.st_size),
                                 modified: DirectoryStamps.nanoseconds(st.st_mtim))
    }
}

/// The per-folder cache `courierswiftsnapmodseq`: each message's MODSEQ (RFC 7162) as the last
/// full open found it, with everything that open depended on: the folder's `DirectoryStamps`
/// (the same as `courierswiftsnapshot`'s), the log's `ModSeqLogPosition`, the boot it was
/// written in, and whether keywords counted. When all of them are still the same, reading the
/// log and reconciling every message's flags with it would give exactly these numbers: the
/// folder did not change (its stamps), nobody recorded a mod-sequence (the log's position), and
/// no restart can have lost records (the boot id; `ModSeqReservation.swift`). A warm open then
/// reads this file and the snapshot instead of the whole log.
///
/// Binary, little-endian:
///
///     header (120 bytes)
///        0  "CSWMSEQ1"
///        8  i64 cur/ mtime   16  i64 new/ mtime   24  i64 courierimapkeywords/ mtime
///       32  i64 courierimapuiddb mtime            40  u64 its inode
///       48  u64 log inode    56  i64 log length   64  i64 log mtime (ns)
///       72  u64 boot id (high)  80  u64 boot id (low)   (both 0: no boot id)
///       88  u64 HIGHESTMODSEQ
///       96  u32 UIDVALIDITY  100  u32 message count
///      104  u32 options (bit 0: keywords were part of the fingerprints)  108  u32 zero
///      112  u64 checksum of the first 112 bytes and everything after the header
///     MODSEQs: u64 each, in the snapshot's (UID) order
///     UIDs: u32 each, the same order
///
/// Any mismatch or damage means the slow open (log read and reconcile), which writes the file
/// again; it is only a cache, never the record of a mod-sequence.
enum ModSeqSnapshot {
    static let fileName = "courierswiftsnapmodseq"
    static let magic: [UInt8] = Array("CSWMSEQ1".utf8)
    static let headerSize = 120

    /// What the numbers were valid for.
    struct Key: Equatable {
        var stamps: DirectoryStamps
        var log: ModSeqLogPosition
        var boot: BootID?
        var keywords: Bool
    }

    static func encode(_ key: Key, highest: UInt64, uidValidity: UInt32, uids: [UInt32], modSeqs: [UInt64]) -> [UInt8]? {
        guard uids.count == modSeqs.count, uids.count <= Int(UInt32.max) else { return nil }
        var out = magic
        out.reserveCapacity(headerSize + uids.count * 12)
        let s = key.stamps
        for v in [s.cur, s.new, s.keywords, s.database] { SnapshotCoding.appendLE(&out, UInt64(bitPattern: v)) }
        SnapshotCoding.appendLE(&out, s.databaseInode)
        SnapshotCoding.appendLE(&out, key.log.inode)
        SnapshotCoding.appendLE(&out, UInt64(bitPattern: key.log.length))
        SnapshotCoding.appendLE(&out, UInt64(bitPattern: key.log.modified))
        SnapshotCoding.appendLE(&out, key.boot?.high ?? 0)
        SnapshotCoding.appendLE(&out, key.boot?.low ?? 0)
        SnapshotCoding.appendLE(&out, highest)
        SnapshotCoding.appendLE(&out, uidValidity)
        SnapshotCoding.appendLE(&out, UInt32(uids.count))
        SnapshotCoding.appendLE(&out, UInt32(key.keywords ? 1 : 0))
        SnapshotCoding.appendLE(&out, UInt32(0))
        var body: [UInt8] = []
        body.reserveCapacity(uids.count * 12)
        for m in modSeqs { SnapshotCoding.appendLE(&body, m) }
        for u in uids { SnapshotCoding.appendLE(&body, u) }
        let seed = out.withUnsafeBytes { SnapshotCoding.checksum($0) }
        SnapshotCoding.appendLE(&out, body.withUnsafeBytes { SnapshotCoding.checksum($0, seed: seed) })
        out += body
        return out
    }

    /// The header's key, HIGHESTMODSEQ, UIDVALIDITY and count when the header is whole and
    /// its key equals `key` (the cheap check before the folder's snapshot is read at all).
    static func header(_ bytes: UnsafeRawBufferPointer, matching key: Key) -> (highest: UInt64, uidValidity: UInt32, count: Int)? {
        guard bytes.count >= headerSize, bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let stamps = SnapshotCoding.stamps(bytes, at: 8)
        let log = ModSeqLogPosition(inode: u64(48), length: Int64(bitPattern: u64(56)), modified: Int64(bitPattern: u64(64)))
        let high = u64(72), low = u64(80)
        let boot: BootID? = high == 0 && low == 0 ? nil : BootID(high: high, low: low)
        let options = u32(104)
        guard options <= 1, u32(108) == 0 else { return nil }
        let found = Key(stamps: stamps, log: log, boot: boot, keywords: options == 1)
        guard found == key else { return nil }
        let count = Int(u32(100))
        guard bytes.count == headerSize + count * 12 else { return nil }
        return (u64(88), u32(96), count)
    }

    /// The header's HIGHESTMODSEQ, UIDVALIDITY and count when the file was written for `key`
    /// and checks out whole (its checksum); the numbers are read with `entry`.
    static func verified(_ bytes: UnsafeRawBufferPointer, matching key: Key) -> (highest: UInt64, uidValidity: UInt32, count: Int)? {
        guard let found = header(bytes, matching: key),
              SnapshotCoding.checksum(UnsafeRawBufferPointer(rebasing: bytes[headerSize...]),
                                      seed: SnapshotCoding.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<112])))
                == UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 112, as: UInt64.self)) else { return nil }
        return found
    }

    /// The UID and MODSEQ of message `i` of a verified file with `count` messages.
    static func entry(_ bytes: UnsafeRawBufferPointer, _ i: Int, count: Int) -> (uid: UInt32, modSeq: UInt64) {
        (UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: headerSize + count * 8 + i * 4, as: UInt32.self)),
         UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: headerSize + i * 8, as: UInt64.self)))
    }

    /// The MODSEQs of `snapshot`'s messages and HIGHESTMODSEQ, when the file was written for
    /// `key` and exactly these UIDs (same UIDVALIDITY, same order) and checks out whole.
    static func decode(_ bytes: UnsafeRawBufferPointer, matching key: Key, snapshot: MailboxSnapshot)
        -> (modSeqs: [UInt64], highest: UInt64)? {
        guard let (highest, validity, count) = verified(bytes, matching: key),
              validity == snapshot.uidValidity, count == snapshot.messages.count else { return nil }
        var modSeqs: [UInt64] = []
        modSeqs.reserveCapacity(count)
        for (i, m) in snapshot.messages.enumerated() {
            let (uid, modSeq) = entry(bytes, i, count: count)
            guard uid == m.uid, isPlausible(modSeq, highest: highest) else { return nil }
            modSeqs.append(modSeq)
        }
        return (modSeqs, highest)
    }

    /// RFC 7162 §3.1.1: a MODSEQ is a positive number, never above HIGHESTMODSEQ.
    static func isPlausible(_ modSeq: UInt64, highest: UInt64) -> Bool { modSeq > 0 && modSeq <= highest }

    /// Writes the file through `tmp/` and a rename, without a sync (`replaceCacheFile`).
    static func save(folderPath: String, _ bytes: [UInt8]) {
        replaceCacheFile(folderPath: folderPath, name: fileName, bytes: bytes)
    }
}

extension FolderIndex {
    /// A warm open with every message's MODSEQ (RFC 7162), aligned with `snapshot.messages`.
    public struct WarmOpen: Sendable {
        public let snapshot: MailboxSnapshot
        public let modSeqs: [UInt64]
        public let highestModSeq: UInt64
    }

    /// The folder-wide facts of a warm open (its messages went to the caller one by one).
    public struct WarmOpenFacts: Sendable {
        public let uidValidity: UInt32
        public let uidNext: UInt32
        public let highestModSeq: UInt64
    }

    /// The open of a folder unchanged since its last full open (same settled `stamps`, the
    /// snapshot saved for them) whose mod-sequence log nobody wrote to since that open recorded
    /// its messages' MODSEQs in `courierswiftsnapmodseq` (in this boot, with the same
    /// `keywords` setting): two file reads, no lock, no log. `reserve` gets the message count,
    /// then `each` every message with its MODSEQ in UID order, straight from the files (no
    /// array in between). Nil when anything differs or does not check out, possibly after some
    /// messages were handed over (the caller drops them); then the caller opens and reconciles
    /// under the log's lock, and calls `saveModSeqs`.
    public static func openWithModSeqs(folderPath: String, stamps: Stamps, keywords: Bool, reserve: (Int) -> Void,
                                       each: (MessageInfo, UInt64) -> Void) -> WarmOpenFacts? {
        guard let log = ModSeqLogPosition.current(folderPath: folderPath),
              let modSeqBytes = readCacheFile(folderPath + "/" + ModSeqSnapshot.fileName, limit: FactsIndex.readLimit)
        else { return nil }
        let key = ModSeqSnapshot.Key(stamps: stamps.value, log: log, boot: BootID.current, keywords: keywords)
        // The small file first: a stale one costs no read of the snapshot.
        return modSeqBytes.withUnsafeBytes { numbers -> WarmOpenFacts? in
            guard let (highest, validity, count) = ModSeqSnapshot.verified(numbers, matching: key),
                  let snapshotBytes = readCacheFile(SnapshotCache(folderPath: folderPath).path, limit: FactsIndex.readLimit)
            else { return nil }
            return snapshotBytes.withUnsafeBytes { bytes -> WarmOpenFacts? in
                guard let (snapshotValidity, snapshotCount) = SnapshotCoding.peek(bytes),
                      snapshotValidity == validity, snapshotCount == count else { return nil }
                var i = 0
                let decoded = SnapshotCoding.decodeEach(bytes, matching: stamps.value, reserve: reserve) { m in
                    guard i < count else { return false }
                    let (uid, modSeq) = ModSeqSnapshot.entry(numbers, i, count: count)
                    guard uid == m.uid, ModSeqSnapshot.isPlausible(modSeq, highest: highest) else { return false }
                    each(m, modSeq)
                    i += 1
                    return true
                }
                guard let (uidValidity, uidNext) = decoded, i == count else { return nil }
                return WarmOpenFacts(uidValidity: uidValidity, uidNext: uidNext, highestModSeq: highest)
            }
        }
    }

    /// `openWithModSeqs` collected into a snapshot and its MODSEQs.
    public static func openWithModSeqs(folderPath: String, stamps: Stamps, keywords: Bool) -> WarmOpen? {
        var messages: [MessageInfo] = [], modSeqs: [UInt64] = []
        guard let facts = openWithModSeqs(folderPath: folderPath, stamps: stamps, keywords: keywords,
                                          reserve: { messages.reserveCapacity($0); modSeqs.reserveCapacity($0) },
                                          each: { messages.append($0); modSeqs.append($1) }) else { return nil }
        return WarmOpen(snapshot: MailboxSnapshot(uidValidity: facts.uidValidity, uidNext: facts.uidNext, messages: messages),
                        modSeqs: modSeqs, highestModSeq: facts.highestModSeq)
    }

    /// Records the MODSEQs an open under `stamps` reconciled (`uids` ascending, as the snapshot
    /// lists them) with the log left at `log` by that transaction, for `openWithModSeqs`.
    /// Failures are ignored (a cache).
    public static func saveModSeqs(folderPath: String, stamps: Stamps, log: ModSeqLogPosition, keywords: Bool,
                                   uidValidity: UInt32, uids: [UInt32], modSeqs: [UInt64], highest: UInt64) {
        let key = ModSeqSnapshot.Key(stamps: stamps.value, log: log, boot: BootID.current, keywords: keywords)
        guard let bytes = ModSeqSnapshot.encode(key, highest: highest, uidValidity: uidValidity, uids: uids, modSeqs: modSeqs)
        else { return }
        ModSeqSnapshot.save(folderPath: folderPath, bytes)
    }
}
