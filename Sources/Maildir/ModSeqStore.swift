#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore
import Synchronization

/// A message's metadata reduced to one number: the flag letters of its file name (everything
/// after `:2,`, unknown letters too) and its keywords (case-folded, sorted), hashed with
/// FNV-1a. Two states with the same fingerprint are the same state for CONDSTORE (RFC 7162
/// §2: a mod-sequence changes when a flag or keyword changes).
public enum ModSeqFingerprint {
    public static func of(fileName: String, keywords: [String]) -> UInt64 {
        // Over the bytes in place (a native String's UTF-8 is contiguous): iterating the
        // UTF8View byte by byte was most of the cost on a 100,000-message SELECT.
        if let h = fileName.utf8.withContiguousStorageIfAvailable({ of(nameBytes: $0, keywords: keywords) }) { return h }
        return Array(fileName.utf8).withUnsafeBufferPointer { of(nameBytes: $0, keywords: keywords) }
    }

    static func of(nameBytes: UnsafeBufferPointer<UInt8>, keywords: [String]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ b: UInt8) {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        // The flag letters after the last ":2," as a set of ASCII bytes (order and repeats
        // do not matter), in two 64-bit words; bytes above 127 are not flags.
        var low: UInt64 = 0, high: UInt64 = 0
        var letters = false
        var state = 0   // 0: looking for ':', 1: seen ':', 2: seen ':2', 3: in the letters
        for b in nameBytes {
            if b == 0x3A { state = 1; low = 0; high = 0; letters = false; continue }
            switch state {
            case 1: state = b == 0x32 ? 2 : 0
            case 2: state = b == 0x2C ? 3 : 0; letters = state == 3
            case 3:
                if b < 64 { low |= 1 << UInt64(b) } else if b < 128 { high |= 1 << UInt64(b - 64) }
            default: break
            }
        }
        if !letters { low = 0; high = 0 }
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        if !keywords.isEmpty {
            let folded = keywords.map { String(decoding: $0.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self) }
            for k in Set(folded).sorted() {
                for b in k.utf8 { mix(b) }
                mix(0x20)
            }
        }
        return h
    }
}

/// One folder's mod-sequences (RFC 7162): the folder's HIGHESTMODSEQ, each message's MODSEQ
/// with the fingerprint of the flags and keywords it was given for, and the UIDs expunged
/// recently with the mod-sequence of their expunge (for QRESYNC's VANISHED (EARLIER)).
///
/// Durable in the folder's `courierswiftmodseq`, an append-only log written under an
/// exclusive `flock` with `fdatasync`, and compacted by write-then-rename (see
/// Docs/maildir-store.md). Every process (and every session of one) goes through
/// `transaction`, which catches up with what others appended before it runs. Changes made
/// by programs that know nothing of mod-sequences (a rename in `cur/` by Courier or a shell
/// user, a delivery, an unlink) are found by `ModSeqTransaction.reconcile`: the caller hands
/// over the folder's messages as a fresh scan found them, and whatever differs from the log
/// gets a new mod-sequence.
public final class FolderModSeqs: Sendable {
    static let fileName = "courierswiftmodseq"
    static let magic = Array("courierswiftmodseq 1 ".utf8)
    /// Expunged UIDs remembered individually; older expunges only raise `floor`.
    static let expungedLimit = 50_000
    /// Folders remembered per process.
    static let folderLimit = 512
    static let registry = Mutex<[String: FolderModSeqs]>([:])

    /// The instance for a folder directory in this process.
    public static func shared(folderPath: String) -> FolderModSeqs {
        registry.withLock { folders in
            if let known = folders[folderPath] { return known }
            if folders.count >= folderLimit { folders.removeAll() }
            let made = FolderModSeqs(folderPath: folderPath)
            folders[folderPath] = made
            return made
        }
    }

    let folderPath: String
    var path: String { folderPath + "/" + Self.fileName }
    let state = Mutex(ModSeqState())

    init(folderPath: String) {
        self.folderPath = folderPath
    }

    /// Runs `body` with the folder's mod-sequence state, exclusively among all sessions and
    /// processes, after reading what others appended; the records `body` makes are appended
    /// and synced before the lock is released. When the file cannot be written (read-only
    /// file system, permissions), `body` still runs on the in-memory state.
    public func transaction<T: Sendable>(_ body: (inout ModSeqTransaction) -> T) -> T {
        run(reportingLog: false, body).result
    }

    /// `transaction`, also telling where the log ended when the lock was released: its inode
    /// and length as written by this transaction (nil when the file could not be used, or
    /// when someone else had already changed it by the time it was looked at). Whoever
    /// finds the log at that position later knows that nothing was recorded in between (see
    /// `ModSeqSnapshot`).
    public func transactionReportingLog<T: Sendable>(_ body: (inout ModSeqTransaction) -> T)
        -> (result: T, log: ModSeqLogPosition?) {
        run(reportingLog: true, body)
    }

    /// The transaction; the log's position (one more `stat`) only when `reportingLog`.
    private func run<T: Sendable>(reportingLog: Bool, _ body: (inout ModSeqTransaction) -> T)
        -> (result: T, log: ModSeqLogPosition?) {
        let path = self.path, folderPath = self.folderPath
        return state.withLock { (state: inout ModSeqState) -> (result: T, log: ModSeqLogPosition?) in
            let file = ModSeqFile.lock(path)
            if let file { state.catchUp(file, folderPath: folderPath) }
            // The machine restarted since the last reservation: records after it may be lost.
            if file != nil { state.recoverIfRebooted() }
            var t = ModSeqTransaction(state: state)
            let result = body(&t)
            state = t.state
            if let file {
                // Durable before anyone is told: a reservation covering every mod-sequence
                // handed out (synced), or, without one, the records themselves.
                if state.needsReservation { t.pending += state.reserve() }
                if !t.pending.isEmpty { state.append(t.pending, to: file, sync: state.syncsEveryRecord || state.reservedJustNow) }
                state.reservedJustNow = false
                if state.isBloated { state.needsCompaction = true }
                if state.needsCompaction { state.compact(file, path: path, folderPath: folderPath) }
                // Still under the lock: nobody can append to this inode now. After a compaction
                // the new file may already be someone else's; then the length differs.
                var log: ModSeqLogPosition?
                if reportingLog, let now = ModSeqLogPosition.current(folderPath: folderPath), now.inode == state.inode,
                   now.length == state.offset {
                    log = now
                }
                file.unlock()
                return (result, log)
            }
            return (result, nil)
        }
    }

    /// The highest mod-sequence this process knows of (no file access).
    public var knownHighest: UInt64 { state.withLock { $0.highest } }
}

/// What a session may read and change inside `FolderModSeqs.transaction`.
public struct ModSeqTransaction {
    var state: ModSeqState
    var pending: [UInt8] = []

    /// HIGHESTMODSEQ (RFC 7162 §3.1.2.1).
    public var highest: UInt64 { state.highest }
    /// Expunges at or below this mod-sequence are no longer listed one by one.
    public var floor: UInt64 { state.floor }
    public var uidValidity: UInt32 { state.uidValidity }

    /// The MODSEQ of a message (nil: not known yet).
    public func modSeq(of uid: UInt32) -> UInt64? { state.live[uid]?.modSeq }
    public func fingerprint(of uid: UInt32) -> UInt64? { state.live[uid]?.fingerprint }

    /// Compares the folder as a scan found it (`uids` ascending, with the fingerprints of
    /// their flags and keywords) with the log: new messages, changed ones and vanished ones
    /// get one new mod-sequence. Returns each message's MODSEQ, in the order given.
    public mutating func reconcile(uidValidity: UInt32, uids: [UInt32], fingerprints: [UInt64]) -> [UInt64] {
        if state.uidValidity != uidValidity {
            // A new UID space (courierimapuiddb recreated): every message is new; expunges of
            // the old space mean nothing any more. Mod-sequences still only grow.
            if state.uidValidity != 0 || !state.live.isEmpty { state.resetUIDs(uidValidity) }
            state.uidValidity = uidValidity
            pending += "V \(uidValidity)\n".utf8
        }
        // One lookup per message: an unchanged message keeps its MODSEQ, the others get the
        // one `record` hands out.
        var changed: [(UInt32, UInt64)] = []
        var changedAt: [Int] = []
        var result: [UInt64] = []
        result.reserveCapacity(uids.count)
        var known = 0
        for (i, (uid, fp)) in zip(uids, fingerprints).enumerated() {
            if let e = state.live[uid] {
                known += 1
                result.append(e.modSeq)
                if e.fingerprint == fp { continue }
            } else {
                result.append(0)
            }
            changed.append((uid, fp))
            changedAt.append(i)
        }
        var gone: [UInt32] = []
        if known < state.live.count {
            let present = Set(uids)
            gone = state.live.keys.filter { !present.contains($0) }.sorted()
        }
        if !changed.isEmpty || !gone.isEmpty {
            let modSeq = record(changed: changed, expunged: gone)
            for i in changedAt { result[i] = modSeq }
        }
        return result
    }

    /// Records new metadata of these messages and these expunges under one new mod-sequence,
    /// which it returns.
    @discardableResult
    public mutating func record(changed: [(uid: UInt32, fingerprint: UInt64)], expunged: [UInt32] = []) -> UInt64 {
        let modSeq = state.highest + 1
        state.highest = modSeq
        let before = pending.count
        for (uid, fp) in changed {
            state.live[uid] = ModSeqState.Entry(modSeq: modSeq, fingerprint: fp)
            pending += "S \(modSeq) \(uid) \(String(fp, radix: 16))\n".utf8
        }
        for uid in expunged where state.live.removeValue(forKey: uid) != nil {
            state.expunged.append(ModSeqState.Expunge(uid: uid, modSeq: modSeq))
            pending += "X \(modSeq) \(uid)\n".utf8
        }
        if pending.count == before { pending += "H \(modSeq)\n".utf8 }
        state.records += changed.count + expunged.count
        return modSeq
    }

    /// UIDs expunged with a mod-sequence above `modSeq`, ascending; nil when `modSeq` is older
    /// than what the log still lists (the caller must assume every missing UID vanished).
    public func expunged(since modSeq: UInt64) -> [UInt32]? {
        if modSeq < state.floor { return nil }
        var out: [UInt32] = []
        var i = state.expunged.count - 1
        while i >= 0, state.expunged[i].modSeq > modSeq {
            out.append(state.expunged[i].uid)
            i -= 1
        }
        return out.sorted()
    }
}

/// The parsed log (one per folder per process) and where reading it stopped.
struct ModSeqState: Sendable {
    struct Entry: Sendable {
        var modSeq: UInt64
        var fingerprint: UInt64
    }
    struct Expunge: Sendable {
        var uid: UInt32
        var modSeq: UInt64
    }

    var uidValidity: UInt32 = 0
    var highest: UInt64 = 0
    var floor: UInt64 = 0
    var live: [UInt32: Entry] = [:]
    /// In the order of their mod-sequences.
    var expunged: [Expunge] = []
    /// Records in the file (for compaction).
    var records = 0
    var needsCompaction = false
    /// The file read so far: inode and the offset after its last whole line.
    var inode: UInt64 = 0
    var offset: Int64 = 0
    /// The highest mod-sequence a synced `R` record allows to be handed out
    /// (`ModSeqReservation.swift`), and the boot it was written in.
    var reserved: UInt64 = 0
    var reservedBoot: BootID?
    var reservedJustNow = false

    /// Far more records than entries: time to rewrite the log.
    var isBloated: Bool {
        records > 2 * (live.count + expunged.count) + 1000 || expunged.count > FolderModSeqs.expungedLimit + 1000
    }

    mutating func resetUIDs(_ validity: UInt32) {
        uidValidity = validity
        live = [:]
        expunged = []
        floor = highest
    }

    /// A fresh log starts above any mod-sequence an earlier (lost) log can have handed out:
    /// the clock in seconds × 65,536 (a client's remembered MODSEQ must never be ahead).
    static func startingPoint() -> UInt64 {
        UInt64(max(1, SystemCall.now().seconds)) << 16
    }

    /// Reads what was appended since the last call (all of it after a compaction by someone
    /// else, or at first use); a damaged file is replaced at the end of the transaction.
    mutating func catchUp(_ file: ModSeqFile, folderPath: String) {
        var st = stat()
        guard fstat(file.fd, &st) == 0 else { return }
        let size = Int64(st.st_size)
        if UInt64(st.st_ino) != inode || size < offset {
            let keepHighest = highest
            self = ModSeqState()
            highest = keepHighest
            inode = UInt64(st.st_ino)
        }
        if size == 0 {
            // A new log starts above anything a lost one can have said.
            highest = max(highest, Self.startingPoint())
            floor = highest
            offset = 0
            append(FolderModSeqs.magic + Array("\(highest) \(floor)\n".utf8), to: file)
            return
        }
        guard size > offset else { return }
        var bytes = [UInt8](repeating: 0, count: Int(size - offset))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress! + filled, $0.count - filled, off_t(offset) + off_t(filled)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        if filled < bytes.count { bytes.removeLast(bytes.count - filled) }
        let used = apply(bytes, fromStart: offset == 0)
        offset += Int64(used)
        if offset < size {
            // A record cut short by a crash: drop it so the next append starts on a new line.
            _ = ftruncate(file.fd, off_t(offset))
        }
    }

    /// Applies whole lines; returns how many bytes were used. A line that does not parse
    /// marks the log damaged (kept: what was read; rewritten by compaction).
    mutating func apply(_ bytes: [UInt8], fromStart: Bool) -> Int {
        bytes.withUnsafeBufferPointer { apply($0, fromStart: fromStart) }
    }

    /// A hand-written scanner over the raw bytes: a cold open of a large folder reads the
    /// whole log here.
    mutating func apply(_ b: UnsafeBufferPointer<UInt8>, fromStart: Bool) -> Int {
        let n = b.count
        var i = 0
        if fromStart {
            let magic = FolderModSeqs.magic
            guard n >= magic.count, b.prefix(magic.count).elementsEqual(magic) else { damaged(); return 0 }
            i = magic.count
            guard let h = Self.decimal(b, &i), i < n, b[i] == 0x20 else { damaged(); return 0 }
            i += 1
            guard let f = Self.decimal(b, &i), i < n, b[i] == 0x0A else { damaged(); return 0 }
            highest = max(highest, h)
            floor = max(floor, f)
            i += 1
        }
        if live.isEmpty { live.reserveCapacity(n / 32) }
        var used = i
        while i < n {
            // The common record, `S <modseq> <uid> <hex>`, parsed in place in one pass; anything
            // else (another kind, damage, a record cut short) takes the general path below.
            if b[i] == UInt8(ascii: "S"), i + 1 < n, b[i + 1] == 0x20 {
                var j = i + 2
                if let m = Self.decimal(b, &j), j < n, b[j] == 0x20 {
                    j += 1
                    if let uid = Self.decimal(b, &j).flatMap(UInt32.init(exactly:)), j < n, b[j] == 0x20 {
                        j += 1
                        if let fp = Self.hexadecimal(b, &j), j < n, b[j] == 0x0A {
                            live[uid] = Entry(modSeq: m, fingerprint: fp)
                            if m > highest { highest = m }
                            i = j + 1
                            used = i
                            records += 1
                            continue
                        }
                    }
                }
            }
            var end = i
            while end < n && b[end] != 0x0A { end += 1 }
            if end == n { break }   // cut short: not used
            let kind = b[i]
            var ok = i + 1 < end && b[i + 1] == 0x20
            i += 2
            switch kind {
            case UInt8(ascii: "S"):
                if ok, let m = Self.decimal(b, &i), i < end, b[i] == 0x20 {
                    i += 1
                    if let uid = Self.decimal(b, &i).flatMap(UInt32.init(exactly:)), i < end, b[i] == 0x20 {
                        i += 1
                        // Applied only when the whole line checks out (a damaged line changes nothing).
                        if let fp = Self.hexadecimal(b, &i), i == end {
                            live[uid] = Entry(modSeq: m, fingerprint: fp)
                            if m > highest { highest = m }
                        } else { ok = false }
                    } else { ok = false }
                } else { ok = false }
            case UInt8(ascii: "X"):
                if ok, let m = Self.decimal(b, &i), i < end, b[i] == 0x20 {
                    i += 1
                    if let uid = Self.decimal(b, &i).flatMap(UInt32.init(exactly:)), i == end {
                        live.removeValue(forKey: uid)
                        expunged.append(Expunge(uid: uid, modSeq: m))
                        if m > highest { highest = m }
                    } else { ok = false }
                } else { ok = false }
            case UInt8(ascii: "H"):
                if ok, let m = Self.decimal(b, &i) { highest = max(highest, m) } else { ok = false }
            case UInt8(ascii: "R"):
                if ok, let r = Self.decimal(b, &i), i < end, b[i] == 0x20 {
                    i += 1
                    if let boot = Self.bootToken(b, &i) {
                        reserved = max(reserved, r)
                        reservedBoot = boot
                    } else { ok = false }
                } else { ok = false }
            case UInt8(ascii: "V"):
                if ok, let v = Self.decimal(b, &i).flatMap(UInt32.init(exactly:)) {
                    if v != uidValidity && (uidValidity != 0 || !live.isEmpty) { resetUIDs(v) } else { uidValidity = v }
                } else { ok = false }
            default: ok = false
            }
            guard ok, i == end else {
                damaged()
                return used
            }
            i = end + 1
            used = i
            records += 1
        }
        if isBloated { needsCompaction = true }
        return used
    }

    /// At most 19 decimal digits at `i` (none: nil); advances past them.
    static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        let start = i
        var v: UInt64 = 0
        while i < b.count, i - start < 19 {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { break }
            v = v * 10 + UInt64(c - 0x30)
            i += 1
        }
        return i > start ? v : nil
    }

    /// At most 16 lower-case hexadecimal digits at `i` (none: nil); advances past them.
    static func hexadecimal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64? {
        let start = i
        var v: UInt64 = 0
        while i < b.count, i - start < 16 {
            let c = b[i]
            let d: UInt64
            if c >= 0x30 && c <= 0x39 { d = UInt64(c - 0x30) } else if c >= 0x61 && c <= 0x66 { d = UInt64(c - 0x61 + 10) } else { break }
            v = v << 4 | d
            i += 1
        }
        return i > start ? v : nil
    }

    /// A log that does not parse: what was read stays; the mod-sequences go on above the
    /// starting point of a fresh log, and the file is rewritten.
    mutating func damaged() {
        highest = max(highest, Self.startingPoint())
        floor = highest
        expunged = []
        needsCompaction = true
    }

    mutating func append(_ bytes: [UInt8], to file: ModSeqFile, sync: Bool = true) {
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = write(file.fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        if ok {
            if sync { _ = fdatasync(file.fd) }
            offset += Int64(bytes.count)
        } else {
            needsCompaction = true   // rewrite from memory at the end of this transaction
        }
    }

    /// Rewrites the log from memory (header, UIDVALIDITY, live messages, the last expunges)
    /// through `tmp/` and a rename; readers elsewhere notice the new inode and read it whole.
    mutating func compact(_ file: ModSeqFile, path: String, folderPath: String) {
        if expunged.count > FolderModSeqs.expungedLimit {
            let dropped = expunged.count - FolderModSeqs.expungedLimit
            floor = max(floor, expunged[dropped - 1].modSeq)
            expunged.removeFirst(dropped)
        }
        var out = FolderModSeqs.magic
        out += "\(highest) \(floor)\n".utf8
        if uidValidity != 0 { out += "V \(uidValidity)\n".utf8 }
        for (uid, e) in live.sorted(by: { $0.key < $1.key }) {
            out += "S \(e.modSeq) \(uid) \(String(e.fingerprint, radix: 16))\n".utf8
        }
        for x in expunged { out += "X \(x.modSeq) \(x.uid)\n".utf8 }
        out += reservationLine()   // the rewritten file is synced: so is the reservation
        let t = SystemCall.now()
        let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_modseq.\(UniqueName.escapeHost(SystemCall.hostName()))"
        guard (try? SystemCall.replaceFile(path, temporaryPath: temporary, bytes: out, mode: 0o600)) != nil,
              let st = SystemCall.status(path) else { return }
        inode = UInt64(st.st_ino)
        offset = Int64(out.count)
        records = live.count + expunged.count + (uidValidity != 0 ? 1 : 0) + 1
        needsCompaction = false
    }
}

/// The log file, open and exclusively `flock`ed (a separate open file description per
/// transaction, so sessions of one process exclude each other too).
struct ModSeqFile {
    let fd: Int32

    /// Opens (creating) and locks the log; retries when a compaction replaced the file
    /// between the open and the lock. Nil when it cannot be opened for writing.
    static func lock(_ path: String) -> ModSeqFile? {
        for _ in 0..<8 {
            let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            if fd < 0 { return nil }
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR { close(fd); return nil }
            }
            var mine = stat(), now = stat()
            if fstat(fd, &mine) == 0, stat(path, &now) == 0, mine.st_ino == now.st_ino { return ModSeqFile(fd: fd) }
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
        return nil
    }

    func unlock() {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
