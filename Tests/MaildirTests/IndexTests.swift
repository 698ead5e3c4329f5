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
        let cache = try #require(readText(root + "/courierswiftsnapshot"))
        #expect(cache.hasPrefix("courierswiftsnapshot 1 \(expected.uidValidity) 3 "))
        #expect(cache.contains(" 1 Work \(expected.messages[1].fileName)\n"))

        let warm = try await store.open(.inbox)
        #expect(await warm.snapshot == expected)
        // Proof that the warm open read the cache: a doctored size shows through.
        let doctored = cache.replacingOccurrences(of: "\n1 \(expected.messages[0].size) ", with: "\n1 4242 ")
        writeFile(root + "/courierswiftsnapshot", doctored)
        #expect(await (try store.open(.inbox)).snapshot.messages.first?.size == 4242)

        // Any change by another program (a delivery) makes the next open scan again.
        try deliver("Subject: three\n\n", to: root)
        let after = try await store.open(.inbox)
        let snap = await after.snapshot
        #expect(snap.messages.map(\.uid) == [1, 2, 3])
        #expect(snap.messages[0].size == expected.messages[0].size)
        #expect(snap.messages[1].keywords == ["Work"])
    }

    @Test(arguments: ["", "junk\n", "courierswiftsnapshot 1 1 2 3\n", "courierswiftsnapshot 1 5 9 0 0 0 0 0\n1 2 3 x name\n"])
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
}
