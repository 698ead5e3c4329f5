#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's boot id (`/proc/sys/kernel/random/boot_id`, 128 bits): it changes exactly when
/// the machine restarts, which is the only time written but unsynced data can be lost (a
/// process that dies leaves its writes in the page cache).
struct BootID: Equatable, Sendable {
    var high: UInt64
    var low: UInt64

    /// This boot's id; nil when it cannot be read (then every record is synced, as before).
    static let current: BootID? = {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var raw = [UInt8](repeating: 0, count: 64)
        let n = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let hex = raw[0..<n].filter { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        guard hex.count == 32 else { return nil }
        return hex.withUnsafeBufferPointer { b in
            var i = 0
            guard let high = ModSeqState.hexadecimal(b, &i), i == 16, let low = ModSeqState.hexadecimal(b, &i), i == 32
            else { return nil }
            return BootID(high: high, low: low)
        }
    }()

    /// 32 lower-case hexadecimal digits.
    var text: String {
        func padded(_ v: UInt64) -> String {
            let digits = String(v, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return padded(high) + padded(low)
    }
}

/// Lazy durability of `courierswiftmodseq` (Docs/maildir-store.md, "Mod-sequences"): instead of
/// an `fdatasync` per STORE, the log holds synced *reservations*
///
///     R <modseq> <boot-id>        mod-sequences up to <modseq> may have been handed out
///
/// written `reservationBlock` ahead of the highest mod-sequence, so that only one change in
/// `reservationBlock` waits for the disk; the records between two reservations are appended
/// without a sync.
///
/// Why mod-sequences still never go backwards: a mod-sequence is only handed out (returned
/// from a transaction) when a synced reservation covers it, so after any crash the log still
/// says at least that much and new mod-sequences start above it. Unsynced records (and the
/// folder's unsynced renames) can only be lost when the machine restarts, and a restart
/// changes the boot id: the first transaction that finds the last reservation written in
/// another boot gives every message one new mod-sequence above the reservation and raises
/// the expunge floor (so each client's next CHANGEDSINCE or QRESYNC sees every message again,
/// whatever was lost), and rewrites the log (synced) before anyone is told. A lost record can
/// therefore never leave a message with a lower MODSEQ than a client has seen.
extension ModSeqState {
    /// How far ahead a reservation reaches: at most one sync per this many changes, and the
    /// mod-sequences skip at most this many after a restart.
    static let reservationBlock: UInt64 = 4096

    /// Without a boot id there is no way to tell a restart: every record is synced.
    var syncsEveryRecord: Bool { BootID.current == nil }

    /// A mod-sequence was handed out beyond the synced reservation (or none was written in
    /// this boot yet).
    var needsReservation: Bool {
        guard let now = BootID.current else { return false }
        return highest > reserved || reservedBoot != now
    }

    /// The next reservation's record; the caller appends it with a sync.
    mutating func reserve() -> [UInt8] {
        reserved = highest + Self.reservationBlock
        reservedBoot = BootID.current
        reservedJustNow = true
        records += 1
        return reservationLine()
    }

    /// The reservation as a record (for appending and for a compacted log); empty without
    /// a boot id.
    func reservationLine() -> [UInt8] {
        guard let now = BootID.current else { return [] }
        let boot = reservedBoot ?? now
        return Array("R \(max(reserved, highest)) \(boot.text)\n".utf8)
    }

    /// After a restart since the last reservation: every message gets one new mod-sequence
    /// above everything that may have been handed out, expunges below it are no longer
    /// listed one by one, and the log is rewritten (synced) at the end of the transaction.
    mutating func recoverIfRebooted() {
        guard let now = BootID.current, let boot = reservedBoot, boot != now else { return }
        let bumped = max(highest, reserved) + 1
        highest = bumped
        floor = bumped
        live = live.mapValues { Entry(modSeq: bumped, fingerprint: $0.fingerprint) }
        reserved = 0   // a fresh reservation of this boot is appended (synced) before the end
        reservedBoot = now
        needsCompaction = true
    }

    /// The 32 hexadecimal digits of a boot id at `i`; advances past them.
    static func bootToken(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> BootID? {
        let start = i
        guard let high = hexadecimal(b, &i), i - start == 16, let low = hexadecimal(b, &i), i - start == 32 else { return nil }
        return BootID(high: high, low: low)
    }
}
