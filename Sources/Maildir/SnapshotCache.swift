#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// The modification stamps that tell whether a folder changed: `cur/`, `new/`,
/// `courierimapkeywords/` (mtime in ns) and `courierimapuiddb` (mtime and inode). Every change
/// another program makes — delivery (link into `new/`), flag change (rename in `cur/`),
/// expunge (unlink), keyword update (file in `courierimapkeywords/`), uid database rewrite
/// (rename over `courierimapuiddb`) — changes one of them.
struct DirectoryStamps: Hashable, Sendable {
    var cur: Int64
    var new: Int64
    var keywords: Int64
    var database: Int64
    var databaseInode: UInt64

    /// File times have the kernel's coarse clock granularity (a few ms): a directory modified
    /// within the last 2 seconds may change again without a different stamp, so stamps that
    /// recent are never trusted to mean "unchanged".
    static let settleSeconds: Int64 = 2

    static func read(_ folderPath: String) -> DirectoryStamps? {
        guard let cur = SystemCall.status(folderPath + "/cur"), let new = SystemCall.status(folderPath + "/new"),
              let db = SystemCall.status(folderPath + "/courierimapuiddb") else { return nil }
        let kw = SystemCall.status(folderPath + "/courierimapkeywords")
        return DirectoryStamps(cur: nanoseconds(cur.st_mtim), new: nanoseconds(new.st_mtim),
                               keywords: kw.map { nanoseconds($0.st_mtim) } ?? 0,
                               database: nanoseconds(db.st_mtim), databaseInode: UInt64(db.st_ino))
    }

    static func nanoseconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }

    /// True when every stamp is old enough to be trusted.
    func isSettled(now: Int64 = SystemCall.now().seconds) -> Bool {
        let limit = (now - Self.settleSeconds) * 1_000_000_000
        return cur <= limit && new <= limit && keywords <= limit && database <= limit
    }
}

/// The per-folder snapshot cache `courierswiftsnapshot`: the last scan's messages (UID, file
/// name, flags, size, date, keywords) with the `DirectoryStamps` taken before that scan, in
/// the binary layout of `SnapshotCoding`. When the stamps on disk still match (and are
/// settled), a warm open reads this one file instead of `courierimapuiddb`, `cur/` and the
/// keywords. Any mismatch, damage or absence (or the text layout of version 1) means a full
/// scan; the file is only a cache.
struct SnapshotCache {
    static let fileName = "courierswiftsnapshot"
    let folderPath: String
    var path: String { folderPath + "/" + Self.fileName }

    /// The cached snapshot if its stamps equal `stamps` (one `read(2)` of the file).
    func load(matching stamps: DirectoryStamps) -> MailboxSnapshot? {
        guard let bytes = readCacheFile(path, limit: FactsIndex.readLimit) else { return nil }
        return Self.parse(bytes, matching: stamps)
    }

    static func parse(_ bytes: [UInt8], matching stamps: DirectoryStamps) -> MailboxSnapshot? {
        bytes.withUnsafeBytes { SnapshotCoding.decode($0, matching: stamps) }
    }

    static func format(_ snapshot: MailboxSnapshot, stamps: DirectoryStamps) -> [UInt8]? {
        SnapshotCoding.encode(snapshot, stamps: stamps)
    }

    /// Writes the cache through `tmp/` without a sync (its checksum catches a torn file);
    /// failures are ignored (it is an optimisation).
    func save(_ snapshot: MailboxSnapshot, stamps: DirectoryStamps) {
        guard let bytes = Self.format(snapshot, stamps: stamps) else { return remove() }
        replaceCacheFile(folderPath: folderPath, name: Self.fileName, bytes: bytes)
    }

    func remove() { unlink(path) }
}
