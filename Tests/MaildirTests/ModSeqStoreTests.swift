#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Testing
@testable import Maildir

/// The per-folder mod-sequence log (`courierswiftmodseq`, RFC 7162).
@Suite struct ModSeqStoreTests {
    /// A second process's view: a fresh instance (not the process-wide one) reading the file.
    func fresh(_ folder: String) -> FolderModSeqs { FolderModSeqs(folderPath: folder) }

    @Test func reconcileGivesNewChangedAndExpungedMessagesOneNewModSeq() throws {
        let scratch = Scratch()
        let folder = try scratch.maildir()
        let log = fresh(folder)
        let first = log.transaction { t in t.reconcile(uidValidity: 7, uids: [1, 2, 3], fingerprints: [10, 20, 30]) }
        #expect(Set(first).count == 1)
        let base = first[0]
        #expect(base > 1 << 16)   // a new log starts above anything a lost one can have said
        // Nothing changed: nothing new.
        let again = log.transaction { t in t.reconcile(uidValidity: 7, uids: [1, 2, 3], fingerprints: [10, 20, 30]) }
        #expect(again == first)
        // Message 2 changed (another program renamed it), 3 vanished, 4 arrived.
        let (now, highest, gone) = log.transaction { t in
            (t.reconcile(uidValidity: 7, uids: [1, 2, 4], fingerprints: [10, 21, 40]), t.highest, t.expunged(since: base))
        }
        #expect(now == [base, base + 1, base + 1])
        #expect(highest == base + 1)
        #expect(gone == [3])
        // Another process reads the same from the file.
        let other = fresh(folder)
        let (seen, otherHighest, otherGone) = other.transaction { t in
            (t.reconcile(uidValidity: 7, uids: [1, 2, 4], fingerprints: [10, 21, 40]), t.highest, t.expunged(since: base))
        }
        #expect(seen == now && otherHighest == highest && otherGone == [3])
        // Its change is seen by the first instance (it catches up before each transaction).
        let stored = other.transaction { t in t.record(changed: [(uid: 1, fingerprint: 11)]) }
        #expect(log.transaction { t in t.modSeq(of: 1) } == stored)
        #expect(stored == base + 2)
    }

    @Test func fingerprintsFollowFlagsAndKeywordsOnly() {
        let a = ModSeqFingerprint.of(fileName: "1.M1P1.host:2,FS", keywords: ["Work", "$Junk"])
        #expect(a == ModSeqFingerprint.of(fileName: "1.M1P1.host:2,SF", keywords: ["$junk", "work"]))
        #expect(a != ModSeqFingerprint.of(fileName: "1.M1P1.host:2,S", keywords: ["Work", "$Junk"]))
        #expect(a != ModSeqFingerprint.of(fileName: "1.M1P1.host:2,FS", keywords: ["Work"]))
        // new/ (no info) and cur/ without flags are the same state.
        #expect(ModSeqFingerprint.of(fileName: "1.M1P1.host", keywords: []) == ModSeqFingerprint.of(fileName: "1.M1P1.host:2,", keywords: []))
    }

    /// Reading a log cut at any byte uses exactly its whole records.
    @Test func everyCutOfTheLogKeepsWholeRecordsOnly() {
        let header = "courierswiftmodseq 1 90 80\n"
        let lines = ["V 7\n", "S 100 1 a\n", "S 101 2 ff\n", "X 102 1\n", "H 103\n", "S 104 3 1234567890abcdef\n"]
        let full = Array((header + lines.joined()).utf8)
        for cut in header.utf8.count...full.count {
            var state = ModSeqState()
            let used = state.apply(Array(full[..<cut]), fromStart: true)
            var expected = header.utf8.count, count = 0
            for l in lines where expected + l.utf8.count <= cut && count == lines.firstIndex(of: l) {
                expected += l.utf8.count
                count += 1
            }
            #expect(used == expected, "cut at \(cut)")
            #expect(state.records == count, "cut at \(cut)")
            #expect(!state.needsCompaction)
        }
        var state = ModSeqState()
        _ = state.apply(full, fromStart: true)
        #expect(state.live[1] == nil && state.live[2]?.fingerprint == 0xff && state.live[2]?.modSeq == 101)
        #expect(state.live[3]?.fingerprint == 0x1234_5678_90ab_cdef && state.highest == 104 && state.uidValidity == 7)
    }

    /// A record that does not parse ends the read there and marks the log for rewriting.
    @Test(arguments: ["S 1 2 zz\n", "S 1 2\n", "S 1 2 3 4\n", "S x 2 3\n", "S 1 99999999999 3\n", "Sx1 2 3\n", "S 1 2 3 \n",
                      "S  1 2 3\n", "S 1 2 12345678901234567\n"])
    func aDamagedRecordStopsTheRead(_ bad: String) {
        let good = "courierswiftmodseq 1 5 5\nS 10 1 a\n"
        var state = ModSeqState()
        let used = state.apply(Array((good + bad + "S 11 2 b\n").utf8), fromStart: true)
        #expect(used == good.utf8.count)
        #expect(state.live[1]?.modSeq == 10 && state.live[2] == nil && state.needsCompaction)
    }

    @Test func aCutShortRecordIsDroppedAndDamageNeverLowersModSeqs() throws {
        let scratch = Scratch()
        let folder = try scratch.maildir()
        let log = fresh(folder)
        let m = log.transaction { t in t.reconcile(uidValidity: 1, uids: [1, 2], fingerprints: [1, 2]) }[0]
        let path = folder + "/courierswiftmodseq"
        // A crash in the middle of a record: the half line is ignored and cut away.
        let fd = open(path, O_WRONLY | O_APPEND)
        _ = try? SystemCall.writeAll(fd, Array("S 99999999999".utf8), path: path)
        close(fd)
        let other = fresh(folder)
        #expect(other.transaction { t in t.modSeq(of: 1) } == m)
        let next = other.transaction { t in t.record(changed: [(uid: 2, fingerprint: 3)]) }
        #expect(next == m + 1)
        #expect(readText(path)?.hasSuffix("S \(m + 1) 2 3\n") == true)
        // Garbage: the mod-sequences go on upwards, never back.
        writeFile(path, "garbage\n")
        let third = fresh(folder)
        let after = third.transaction { t in t.reconcile(uidValidity: 1, uids: [1, 2], fingerprints: [1, 3]) }
        #expect(after.allSatisfy { $0 >= m })
        #expect(readText(path)?.hasPrefix("courierswiftmodseq 1 ") == true)
        // A removed file starts again above the clock-based floor.
        unlink(path)
        let fourth = fresh(folder)
        #expect(fourth.transaction { t in t.reconcile(uidValidity: 1, uids: [1], fingerprints: [1]) }[0] > 1 << 16)
    }

    @Test func compactionKeepsLiveMessagesAndRecentExpunges() throws {
        let scratch = Scratch()
        let folder = try scratch.maildir()
        let log = fresh(folder)
        _ = log.transaction { t in t.reconcile(uidValidity: 3, uids: [1, 2, 3], fingerprints: [0, 0, 0]) }
        var last: UInt64 = 0
        for i in 0..<1200 {   // many flag changes of one message: the log gets rewritten
            last = log.transaction { t in t.record(changed: [(uid: 1, fingerprint: UInt64(i + 1))]) }
        }
        let expungedAt = log.transaction { t in t.record(changed: [], expunged: [2]) }
        let size = SystemCall.status(folder + "/courierswiftmodseq").map { Int($0.st_size) } ?? 0
        #expect(size < 1200 * 20)
        let other = fresh(folder)
        let (one, three, highest, gone) = other.transaction { t in
            (t.modSeq(of: 1), t.modSeq(of: 3), t.highest, t.expunged(since: last))
        }
        #expect(one == last && three != nil && highest == expungedAt && gone == [2])
        // A new UIDVALIDITY: every message is new, old expunges are forgotten.
        let renewed = other.transaction { t in t.reconcile(uidValidity: 4, uids: [1], fingerprints: [0]) }
        #expect(renewed == [expungedAt + 1])
        #expect(other.transaction { t in t.expunged(since: last) } == nil)
        #expect(fresh(folder).transaction { t in t.modSeq(of: 3) } == nil)
    }

    @Test func concurrentWritersNeverHandOutAModSeqTwice() async throws {
        let scratch = Scratch()
        let folder = try scratch.maildir()
        _ = fresh(folder).transaction { t in t.reconcile(uidValidity: 1, uids: [1], fingerprints: [0]) }
        // Four "processes" (separate instances, separate descriptors) record at once.
        let results = await withTaskGroup(of: [UInt64].self) { group in
            for w in 0..<4 {
                group.addTask {
                    let log = FolderModSeqs(folderPath: folder)
                    var mine: [UInt64] = []
                    for i in 0..<50 {
                        mine.append(log.transaction { t in t.record(changed: [(uid: 1, fingerprint: UInt64(w * 1000 + i))]) })
                    }
                    return mine
                }
            }
            var all: [UInt64] = []
            for await r in group { all += r }
            return all
        }
        #expect(results.count == 200 && Set(results).count == 200)
        #expect(fresh(folder).transaction { t in t.highest } == results.max())
    }
}

/// Lazy durability: synced reservations instead of a sync per record (ModSeqReservation.swift).
@Suite struct ModSeqReservationTests {
    @Test func oneReservationCoversManyChangesAndIsReadBack() throws {
        let scratch = Scratch()
        let folder = try scratch.maildir()
        let log = FolderModSeqs(folderPath: folder)
        _ = log.transaction { t in t.reconcile(uidValidity: 1, uids: [1, 2], fingerprints: [1, 2]) }
        var last: UInt64 = 0
        for i in 0..<10 { last = log.transaction { t in t.record(changed: [(uid: 1, fingerprint: UInt64(10 + i))]) } }
        let text = readText(folder + "/courierswiftmodseq") ?? ""
        let reservations = text.split(separator: "\n").filter { $0.hasPrefix("R ") }
        guard BootID.current != nil else { return }   // no boot id: every record is synced instead
        #expect(reservations.count == 1)
        let reserved = reservations.first.flatMap { UInt64($0.split(separator: " ")[1]) } ?? 0
        #expect(reserved >= last)
        // Another process reads the reservation and goes on without a new one.
        let other = FolderModSeqs(folderPath: folder)
        let next = other.transaction { t in t.record(changed: [(uid: 2, fingerprint: 3)]) }
        #expect(next == last + 1)
        #expect((readText(folder + "/courierswiftmodseq") ?? "").split(separator: "\n").filter { $0.hasPrefix("R ") }.count == 1)
    }

    @Test func aReservationOfAnotherBootGivesEveryMessageANewModSeqAboveIt() throws {
        let scratch = Scratch()
        let folder = try scratch.maildir()
        guard BootID.current != nil else { return }
        // A log as a machine that then crashed left it: the last reservation says 5000, the
        // records after it (unsynced) are gone; message 2 may have changed at 4000 unseen.
        writeFile(folder + "/courierswiftmodseq", "courierswiftmodseq 1 1000 1000\nV 1\nS 1001 1 a\nS 1001 2 b\n"
                  + "R 5000 00000000000000000000000000000001\nX 1002 3\n")
        let log = FolderModSeqs(folderPath: folder)
        let (one, two, highest, gone) = log.transaction { t in
            (t.modSeq(of: 1), t.modSeq(of: 2), t.highest, t.expunged(since: 1001))
        }
        #expect(one == 5001 && two == 5001 && highest == 5001)
        #expect(gone == nil)   // the floor moved: a QRESYNC client gets every missing UID
        // Rewritten with a reservation of this boot: a second process does not bump again.
        let text = readText(folder + "/courierswiftmodseq") ?? ""
        #expect(text.contains("R ") && !text.contains("00000000000000000000000000000001"))
        let other = FolderModSeqs(folderPath: folder)
        #expect(other.transaction { t in t.modSeq(of: 1) } == 5001)
        #expect(other.transaction { t in t.record(changed: [(uid: 1, fingerprint: 9)]) } == 5002)
    }
}
