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
/// name, size, date, keywords) with the `DirectoryStamps` taken before that scan. When the
/// stamps on disk still match (and are settled), a warm open uses it instead of reading
/// `courierimapuiddb`, `cur/` and the keywords. Any mismatch, damage or absence means a full
/// scan; the file is only a cache.
///
///     courierswiftsnapshot 1 <uidvalidity> <uidnext> <cur> <new> <keywords> <uiddb> <uiddb-inode>
///     <uid> <size> <date> <keyword-count> [<keyword> ...] <file name>
struct SnapshotCache {
    static let fileName = "courierswiftsnapshot"
    static let magic = "courierswiftsnapshot 1 "
    let folderPath: String
    var path: String { folderPath + "/" + Self.fileName }

    /// The cached snapshot if its stamps equal `stamps`.
    func load(matching stamps: DirectoryStamps) -> MailboxSnapshot? {
        guard let bytes = readCacheFile(path, limit: FactsIndex.readLimit) else { return nil }
        return Self.parse(bytes, matching: stamps)
    }

    static func parse(_ bytes: [UInt8], matching stamps: DirectoryStamps) -> MailboxSnapshot? {
        bytes.withUnsafeBufferPointer { parse($0, matching: stamps) }
    }

    /// A hand-written scanner: a warm open of a large folder spends its time here.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, matching stamps: DirectoryStamps) -> MailboxSnapshot? {
        let n = b.count
        guard n > 0, b[n - 1] == 0x0A else { return nil }   // cut short
        let magicBytes = Array(magic.utf8)
        guard n > magicBytes.count, b.prefix(magicBytes.count).elementsEqual(magicBytes) else { return nil }
        var i = magicBytes.count
        /// A decimal of at most 19 digits followed by `terminator`; advances past it.
        func number(_ terminator: UInt8) -> Int64? {
            var v: Int64 = 0
            let start = i
            while i < n, b[i] >= 0x30, b[i] <= 0x39, i - start < 19 {
                v = v * 10 + Int64(b[i] - 0x30)
                i += 1
            }
            guard i > start, i < n, b[i] == terminator else { return nil }
            i += 1
            return v
        }
        guard let validity = number(0x20).flatMap(UInt32.init(exactly:)), let next = number(0x20).flatMap(UInt32.init(exactly:)),
              let cur = number(0x20), let new = number(0x20), let kw = number(0x20), let db = number(0x20),
              let ino = number(0x0A),
              DirectoryStamps(cur: cur, new: new, keywords: kw, database: db, databaseInode: UInt64(ino)) == stamps else { return nil }
        var messages: [MessageInfo] = []
        var previousUID: UInt32 = 0
        while i < n {
            guard let uid = number(0x20).flatMap(UInt32.init(exactly:)), uid > previousUID, uid < next,
                  let size = number(0x20), let date = number(0x20), let count = number(0x20), count <= 10_000 else { return nil }
            var keywords: [String] = []
            for _ in 0..<count {
                let start = i
                while i < n, b[i] != 0x20, b[i] != 0x0A { i += 1 }
                guard i < n, b[i] == 0x20, i > start else { return nil }
                keywords.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
                i += 1
            }
            let start = i
            var colon = -1
            while b[i] != 0x0A {   // the buffer ends with LF
                if b[i] == 0x3A { colon = i }
                i += 1
            }
            guard i > start else { return nil }
            var flags: SystemFlags = []
            if colon >= 0, colon + 2 < i, b[colon + 1] == 0x32, b[colon + 2] == 0x2C {
                flags = SystemFlags(MessageFlags(letters: UnsafeBufferPointer(rebasing: b[(colon + 3)..<i])))
            }
            let name = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            i += 1
            messages.append(MessageInfo(uid: uid, fileName: name, flags: flags, keywords: keywords, size: size,
                                        internalDate: date, isRecent: false))
            previousUID = uid
        }
        return MailboxSnapshot(uidValidity: validity, uidNext: next, messages: messages)
    }

    static func format(_ snapshot: MailboxSnapshot, stamps: DirectoryStamps) -> [UInt8] {
        var out = Array(magic.utf8)
        out.reserveCapacity(snapshot.messages.count * 100)
        out += "\(snapshot.uidValidity) \(snapshot.uidNext) \(stamps.cur) \(stamps.new) \(stamps.keywords) \(stamps.database) \(stamps.databaseInode)\n".utf8
        for m in snapshot.messages where !m.fileName.utf8.contains(0x0A) {
            out += "\(m.uid) \(m.size) \(m.internalDate) \(m.keywords.count) ".utf8
            for k in m.keywords { out += k.utf8; out.append(0x20) }
            out += m.fileName.utf8
            out.append(0x0A)
        }
        return out
    }

    /// Writes the cache through `tmp/`; failures are ignored (it is an optimisation).
    func save(_ snapshot: MailboxSnapshot, stamps: DirectoryStamps) {
        let t = SystemCall.now()
        let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_snapshot.\(UniqueName.escapeHost(SystemCall.hostName()))"
        try? SystemCall.replaceFile(path, temporaryPath: temporary, bytes: Self.format(snapshot, stamps: stamps), mode: 0o600)
    }

    func remove() { unlink(path) }
}
