#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MaildirCore
import Testing
@testable import Maildir

@Suite struct FactsIndexTests {
    @Test func openWritesTheIndexAndLaterOpensUseIt() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nbody\n", to: root)
        let store = MailStore(root: root)
        let first = try await store.open(.inbox)
        let m = try #require(await first.snapshot.messages.first)
        let index = try #require(readText(root + "/courierswiftindex"))
        #expect(index == "courierswiftindex 1\n\(m.size) \(m.internalDate) \(m.baseName)\n")
        // A later open takes the facts from the index (proved by a doctored entry).
        writeFile(root + "/courierswiftindex", "courierswiftindex 1\n777 5 \(m.baseName)\n")
        let second = try await store.open(.inbox)
        #expect(await second.snapshot.messages.first?.size == 777)
    }

    @Test(arguments: ["", "garbage", "courierswiftindex 2\n1 2 x\n", "courierswiftindex 1\n12",
                      "courierswiftindex 1\n-5 1 NAME\n", "courierswiftindex 1\n1 NAME\n",
                      "courierswiftindex 1\n99999999999999999999999 1 NAME\n"])
    func corruptIndexIsRebuilt(_ content: String) async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let delivered = try deliver("Subject: one\n\nbody\n", to: root)
        writeFile(root + "/courierswiftindex", content.replacingOccurrences(of: "NAME", with: delivered.fileName.baseName))
        let box = try await MailStore(root: root).open(.inbox)
        let m = try #require(await box.snapshot.messages.first)
        #expect(m.size == Int64("Subject: one\r\n\r\nbody\r\n".utf8.count))
        #expect(readText(root + "/courierswiftindex")?.hasSuffix(" \(m.baseName)\n") == true)
    }

    @Test func parseSkipsBadLinesKeepsGoodOnes() {
        let parsed = FactsIndex.parse(Array("courierswiftindex 1\nbad line\n10 20 a b\n\n3 4 c\n5 6".utf8))
        #expect(parsed == ["a b": MessageFacts(size: 10, internalDate: 20), "c": MessageFacts(size: 3, internalDate: 4)])
    }
}

/// Sets a path's mtime `seconds` into the past (so its stamp counts as settled).
private func backdate(_ path: String, by seconds: Int) {
    let t = Int(time(nil)) - seconds
    var times = [timespec(tv_sec: t, tv_nsec: 0), timespec(tv_sec: t, tv_nsec: 0)]
    _ = utimensat(AT_FDCWD, path, &times, 0)
}

@Suite struct SnapshotCacheTests {
    func settle(_ root: String) {
        for p in ["/cur", "/new", "/courierimapuiddb", "/courierimapkeywords"] { backdate(root + p, by: 10) }
    }

    @Test func warmOpenUsesTheCacheUntilAnythingChanges() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nbody\n", to: root)
        try deliver("Subject: two\n\nbody\n", to: root)
        let store = MailStore(root: root)
        let first = try await store.open(.inbox)
        try await first.setFlags(uids: [2], flags: .seen, keywords: ["Work"], operation: .add)
        _ = try await store.open(.inbox)        // merges the keyword update
        settle(root)
        let full = try await store.open(.inbox)  // full scan with settled stamps: writes the cache
        let expected = await full.snapshot
        let stamps = try #require(DirectoryStamps.read(root))
        let bytes = try #require(try SystemCall.readFile(root + "/courierswiftsnapshot"))
        #expect(bytes.starts(with: Array("CSWSNAP2".utf8)))
        let cached = try #require(SnapshotCache.parse(bytes, matching: stamps))
        #expect(cached == expected)
        #expect(cached.messages[1].keywords == ["Work"])

        let warm = try await store.open(.inbox)
        #expect(await warm.snapshot == expected)
        // Proof that the warm open read the cache: a doctored size shows through.
        var doctored = cached
        doctored.messages[0].size = 4242
        writeBytes(root + "/courierswiftsnapshot", try #require(SnapshotCache.format(doctored, stamps: stamps)))
        #expect(await (try store.open(.inbox)).snapshot.messages.first?.size == 4242)

        // Any change by another program (a delivery) makes the next open scan again.
        try deliver("Subject: three\n\n", to: root)
        let after = try await store.open(.inbox)
        let snap = await after.snapshot
        #expect(snap.messages.map(\.uid) == [1, 2, 3])
        #expect(snap.messages[0].size == expected.messages[0].size)
        #expect(snap.messages[1].keywords == ["Work"])
    }

    /// A version-1 (text) snapshot, empty files and junk are not used: the open scans.
    @Test(arguments: ["", "junk\n", "courierswiftsnapshot 1 1 2 3\n", "courierswiftsnapshot 1 5 9 0 0 0 0 0\n1 2 3 x name\n",
                      "CSWSNAP2"])
    func damagedCacheMeansAFullScan(_ content: String) async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nbody\n", to: root)
        _ = try await MailStore(root: root).open(.inbox)
        settle(root)
        writeFile(root + "/courierswiftsnapshot", content)
        let box = try await MailStore(root: root).open(.inbox)
        #expect(await box.snapshot.messages.count == 1)
        #expect(SnapshotCache.parse(Array(content.utf8), matching: DirectoryStamps(cur: 0, new: 0, keywords: 0, database: 0, databaseInode: 0)) == nil)
    }

    static let stamps = DirectoryStamps(cur: 1, new: 2, keywords: 3, database: 4, databaseInode: 5)
    static let sample = MailboxSnapshot(uidValidity: 77, uidNext: 9, messages: [
        MessageInfo(uid: 1, fileName: "1.M1P1.h,S=10:2,S", flags: .seen, keywords: [], size: 12, internalDate: 100, isRecent: false),
        MessageInfo(uid: 4, fileName: "2.M2P1.h:2,FRT", flags: [.flagged, .answered, .deleted], keywords: ["Work", "$Forwarded"],
                    size: 1 << 40, internalDate: -5, isRecent: false),
        MessageInfo(uid: 5, fileName: "3.M3P1.h", flags: [], keywords: ["Work", "$Forwarded"], size: 0, internalDate: 0, isRecent: false),
        MessageInfo(uid: 8, fileName: "4.M4P1.h:2,D", flags: .draft, keywords: ["Caf\u{E9}"], size: 7, internalDate: 1, isRecent: false),
    ])

    @Test func binaryRoundTrip() throws {
        let bytes = try #require(SnapshotCoding.encode(Self.sample, stamps: Self.stamps))
        #expect(SnapshotCache.parse(bytes, matching: Self.stamps) == Self.sample)
        // Stamps are part of the file: other stamps, other folder state.
        var other = Self.stamps
        other.databaseInode = 6
        #expect(SnapshotCache.parse(bytes, matching: other) == nil)
        let empty = MailboxSnapshot(uidValidity: 1, uidNext: 1, messages: [])
        #expect(SnapshotCache.parse(try #require(SnapshotCoding.encode(empty, stamps: Self.stamps)), matching: Self.stamps) == empty)
    }

    /// Every truncation and every single-byte change of a valid file is refused (checksum,
    /// lengths, offsets), never read in part or trusted.
    @Test func everyTruncationAndByteFlipIsRefused() throws {
        let bytes = try #require(SnapshotCoding.encode(Self.sample, stamps: Self.stamps))
        for n in 0..<bytes.count {
            #expect(SnapshotCache.parse(Array(bytes[..<n]), matching: Self.stamps) == nil)
        }
        #expect(SnapshotCache.parse(bytes + [0], matching: Self.stamps) == nil)
        for i in bytes.indices {
            var flipped = bytes
            flipped[i] ^= 0x41
            #expect(SnapshotCache.parse(flipped, matching: Self.stamps) == nil, "byte \(i)")
        }
    }

    /// The body's checksum is a bijection of its seed (the header's checksum): two headers
    /// that differ never share a body checksum. Seeding all four lanes made these collide.
    @Test func differentSeedsNeverShareAChecksum() {
        for body in [[UInt8](), Array("short body".utf8), [UInt8](repeating: 7, count: 100)] {
            body.withUnsafeBytes { raw in
                #expect(SnapshotCoding.checksum(raw, seed: 0x91b7_584a_2200_0004)
                        != SnapshotCoding.checksum(raw, seed: 0x91b7_584a_2200_000a))
                var seen = Set<UInt64>()
                for low in UInt64(0)..<4096 { seen.insert(SnapshotCoding.checksum(raw, seed: 0x91b7_584a_2200_0000 | low)) }
                #expect(seen.count == 4096)
            }
        }
    }

    /// A name that cannot be a file in cur/ is never written (the whole snapshot is skipped).
    @Test(arguments: ["a/b", "a\u{0}b", ""])
    func unrepresentableNamesWriteNoSnapshot(_ name: String) {
        var s = Self.sample
        s.messages[0].fileName = name
        #expect(SnapshotCoding.encode(s, stamps: Self.stamps) == nil)
    }

    /// A checksum-valid file whose records break the rules (UIDs out of order, a UID at or
    /// above UIDNEXT, a name with a slash) is refused too.
    @Test func wellFormedButInconsistentFilesAreRefused() throws {
        var disorder = Self.sample
        disorder.messages.swapAt(0, 1)
        var tooHigh = Self.sample
        tooHigh.uidNext = 8
        for bad in [disorder, tooHigh] {
            let bytes = try #require(SnapshotCoding.encode(bad, stamps: Self.stamps))
            #expect(SnapshotCache.parse(bytes, matching: Self.stamps) == nil)
        }
    }

    /// A checksum-valid file whose header claims more keywords than its keyword bytes can hold
    /// is refused before anything is reserved for them (it asked for 2^32 strings).
    @Test func aKeywordCountBeyondTheKeywordBytesIsRefused() throws {
        var bytes = try #require(SnapshotCoding.encode(Self.sample, stamps: Self.stamps))
        bytes.withUnsafeMutableBytes { p in
            p.storeBytes(of: UInt32.max.littleEndian, toByteOffset: 60, as: UInt32.self)
            let raw = UnsafeRawBufferPointer(p)
            let sum = SnapshotCoding.checksum(UnsafeRawBufferPointer(rebasing: raw[SnapshotCoding.headerSize...]),
                                              seed: SnapshotCoding.checksum(UnsafeRawBufferPointer(rebasing: raw[..<80])))
            p.storeBytes(of: sum.littleEndian, toByteOffset: 80, as: UInt64.self)
        }
        #expect(SnapshotCache.parse(bytes, matching: Self.stamps) == nil)
    }

    /// Keyword sets that overlap (records pointing into the middle of another set) are refused:
    /// a crafted file could otherwise have thousands of records each build a list of up to
    /// 10,000 keywords from a few kilobytes of set words.
    @Test func overlappingKeywordSetsAreRefused() throws {
        let snapshot = MailboxSnapshot(uidValidity: 1, uidNext: 9, messages: [
            MessageInfo(uid: 1, fileName: "1.M1P1.h", flags: [], keywords: ["a", "b", "c", "d"], size: 1, internalDate: 1, isRecent: false),
            MessageInfo(uid: 2, fileName: "2.M2P1.h", flags: [], keywords: ["a"], size: 1, internalDate: 1, isRecent: false),
            MessageInfo(uid: 3, fileName: "3.M3P1.h", flags: [], keywords: ["b"], size: 1, internalDate: 1, isRecent: false),
        ])
        var bytes = try #require(SnapshotCoding.encode(snapshot, stamps: Self.stamps))
        #expect(SnapshotCache.parse(bytes, matching: Self.stamps) == snapshot)
        // Sets as written: [4 0 1 2 3] [1 0] [1 1]. Message 2 now reads the set at word 2
        // ([1 2]: c) and message 3 the one at word 3 ([2 3 1]: d b), inside the first set.
        let record = SnapshotCoding.headerSize, size = SnapshotCoding.recordSize
        bytes.withUnsafeMutableBytes { p in
            p.storeBytes(of: UInt32(2).littleEndian, toByteOffset: record + size + 4, as: UInt32.self)
            p.storeBytes(of: UInt32(3).littleEndian, toByteOffset: record + 2 * size + 4, as: UInt32.self)
            let raw = UnsafeRawBufferPointer(p)
            let sum = SnapshotCoding.checksum(UnsafeRawBufferPointer(rebasing: raw[SnapshotCoding.headerSize...]),
                                              seed: SnapshotCoding.checksum(UnsafeRawBufferPointer(rebasing: raw[..<80])))
            p.storeBytes(of: sum.littleEndian, toByteOffset: 80, as: UInt64.self)
        }
        #expect(SnapshotCache.parse(bytes, matching: Self.stamps) == nil)
    }
}

@Suite struct FileNameFlagTests {
    /// The in-place reading of a name's flags agrees with `MessageFileName.flags`.
    @Test(arguments: ["a", "a:", "a:2", "a:2,", "a:2,S", "a:2,FRST", "a:2,DFPRST", "a:1,S", "a:2,S:2,F", "a,S=12:2,T",
                      "a:2,abcS", "b:3,S", ":2,R"])
    func sameAsTheParser(_ name: String) {
        #expect(MailboxScan.systemFlags(name) == SystemFlags(MessageFileName(name).flags ?? MessageFlags()))
    }
}
