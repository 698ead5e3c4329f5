import Glibc
import Testing
@testable import POP3

/// The login listing memo (POP3OpenCache): reused only while cur/ and the size list are
/// unchanged and settled; any delivery, flag change or deletion shows at the next login.
@Suite struct POP3OpenCacheTests {
    /// Sets a path's mtime an hour back, so that its stamp counts as settled.
    static func age(_ path: String) {
        var times = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    static func settle(_ dir: String) {
        age(dir + "/cur")
        age(dir + "/" + POP3Mailbox.sizeListName)
    }

    @Test func settledListingIsReusedUntilCurChanges() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/cur/100.A.host:2,", "a\n")
        writeTestFile(dir + "/cur/101.B.host:2,", "bb\n")
        let box = POP3Mailbox(path: dir)
        let first = try box.open(now: 1_795_709_431)
        Self.settle(dir)
        let second = try box.open(now: 1_795_709_431)
        #expect(second == first)
        let cur = try #require(POP3OpenCache.Stamp(dir + "/cur"))
        let list = try #require(POP3OpenCache.Stamp(dir + "/" + POP3Mailbox.sizeListName))
        #expect(POP3OpenCache.shared.lookup(dir, cur: cur, sizeList: list)?.messages == first)

        // A message delivered straight into cur/ (IMAP APPEND) changes cur/'s mtime.
        writeTestFile(dir + "/cur/102.C.host:2,", "ccc\n")
        let third = try box.open(now: 1_795_709_431)
        #expect(third.map(\.path) == ["cur/100.A.host:2,", "cur/101.B.host:2,", "cur/102.C.host:2,"])
        #expect(third.last?.uidl == "UID3-1795709431")

        // A flag change (rename) and a delivery to new/ both show at the next login.
        Self.settle(dir)
        _ = try box.open(now: 1_795_709_431)
        #expect(rename(dir + "/cur/100.A.host:2,", dir + "/cur/100.A.host:2,S") == 0)
        writeTestFile(dir + "/new/103.D.host", "dddd\n")
        let fourth = try box.open(now: 1_795_709_431)
        #expect(fourth.map(\.path) == ["cur/100.A.host:2,S", "cur/101.B.host:2,", "cur/102.C.host:2,", "cur/103.D.host:2,"])
        #expect(fourth.map(\.uidl) == ["UID1-1795709431", "UID2-1795709431", "UID3-1795709431", "UID4-1795709431"])
    }

    @Test func freshStampsAreNotRemembered() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/cur/100.A.host:2,", "a\n")
        _ = try POP3Mailbox(path: dir).open(now: 1_795_709_431)
        let cur = try #require(POP3OpenCache.Stamp(dir + "/cur"))
        let list = try #require(POP3OpenCache.Stamp(dir + "/" + POP3Mailbox.sizeListName))
        #expect(POP3OpenCache.shared.lookup(dir, cur: cur, sizeList: list) == nil)
    }

    @Test func orderKeyMatchesPrecedes() {
        let names = ["99.x:2,", "100.a:2,S", "100.a:2,", "100.b:2,", "100.a", "7", "abc:2,", "100.a:", "",
                     "100.\u{e9}:2,", "100.\u{e9}t\u{e9}", "18446744073709551616.a:2,"]
        for a in names {
            for b in names {
                #expect((POP3SizeList.OrderKey(a) < POP3SizeList.OrderKey(b)) == POP3SizeList.precedes(a, b), "\(a) vs \(b)")
            }
        }
    }

    @Test func arenaOrderMatchesPrecedesAndIsStable() {
        let names = ["99.x:2,", "100.a:2,S", "100.a:2,", "100.b:2,", "100.a", "7", "abc:2,", "100.a:", "",
                     "100.\u{e9}:2,", "100.\u{e9}t\u{e9}", "18446744073709551616.a:2,", "100.a:2,S"]
        var arena = POP3OrderArena()
        let keys = names.map { arena.add($0) }
        arena.withOrder { less in
            for a in names.indices {
                for b in names.indices {
                    #expect(less(keys[a], keys[b]) == POP3SizeList.precedes(names[a], names[b]), "\(names[a]) vs \(names[b])")
                }
            }
        }
        let order = arena.sortedIndices(keys)
        let sorted = order.map { names[$0] }
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(!POP3SizeList.precedes(b, a)) }
        // Equal keys keep their relative order ("100.a:2,S" at 1 and 12, "100.a:2," at 2).
        let equal = order.filter { [1, 2, 12].contains($0) }
        #expect(equal == [1, 2, 12])
    }

    @Test func aSizeListWrittenByTheOpenIsTrustedAtOnce() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/cur/100.A.host:2,", "a\n")
        Self.age(dir + "/cur")
        let first = try POP3Mailbox(path: dir).open(now: 1_795_709_431)
        // cur/ was settled and the size list is the one this open wrote: remembered.
        let cur = try #require(POP3OpenCache.Stamp(dir + "/cur"))
        let list = try #require(POP3OpenCache.Stamp(dir + "/" + POP3Mailbox.sizeListName))
        #expect(POP3OpenCache.shared.lookup(dir, cur: cur, sizeList: list)?.messages == first)
    }

    @Test func aSizeListReplacedByAnotherWriterIsReadAgain() throws {
        let dir = makeTestMaildir()
        writeTestFile(dir + "/cur/100.A.host:2,", "a\n")
        Self.age(dir + "/cur")
        #expect(try POP3Mailbox(path: dir).open(now: 1_795_709_431).map(\.uidl) == ["UID1-1795709431"])
        // Another pop3d (Courier's, during a migration) writes its own list, through a rename.
        writeTestFile(dir + "/tmp/other", "/3 8 1600000000\n100.A.host:2, 3 7:1600000000:0\n")
        #expect(rename(dir + "/tmp/other", dir + "/" + POP3Mailbox.sizeListName) == 0)
        #expect(try POP3Mailbox(path: dir).open(now: 1_795_709_431).map(\.uidl) == ["UID7-1600000000"])
    }
}
