import Glibc
import Synchronization
import Testing
@testable import MailQueue

@Suite struct SuppressionListTests {
    let t0: Int64 = 1_800_000_000

    @Test func failuresAndDeferralsAreRefusedForTwoHours() {
        var list = SuppressionList()
        list.record("a@X.test", .failed, now: t0)
        list.record("b@x.test", .deferred, now: t0)
        #expect(list.refusal(for: "a@x.TEST", now: t0 + 10) == .failed)
        #expect(list.refusal(for: "A@x.test", now: t0 + 10) == nil)   // the local part as written
        #expect(list.refusal(for: "b@x.test", now: t0 + 7200) == .deferred)
        #expect(list.refusal(for: "b@x.test", now: t0 + 7201) == nil)
        #expect(list.addresses(now: t0) == ["a@x.test", "b@x.test"])
        #expect(list.addresses(now: t0 + 7201) == [])
    }

    @Test func successClearsAndRepeatsWithinHalfAWindowKeepTheFirstTime() {
        var list = SuppressionList()
        list.record("a@x.test", .deferred, now: t0)
        list.record("a@x.test", .failed, now: t0 + 3599)
        #expect(list.entries["a@x.test"] == .init(status: .deferred, time: t0))
        list.record("a@x.test", .failed, now: t0 + 3601)
        #expect(list.entries["a@x.test"] == .init(status: .failed, time: t0 + 3601))
        list.record("a@x.test", .delivered, now: t0 + 3700)
        #expect(list.refusal(for: "a@x.test", now: t0 + 3700) == nil)
        list.record("b@x.test", .failed, now: t0)
        #expect(list.clear("B@X.TEST") == false)
        #expect(list.clear("b@X.TEST") == true)
        list.record("c@x.test", .failed, now: t0)
        list.clearAll()
        #expect(list.entries.isEmpty)
    }

    @Test func boundedByCapacityOldestFirst() {
        var list = SuppressionList(capacity: 3)
        for i in 0..<5 { list.record("u\(i)@x.test", .failed, now: t0 + Int64(i)) }
        #expect(list.addresses(now: t0 + 5) == ["u2@x.test", "u3@x.test", "u4@x.test"])
        // Not tracked: empty, over-long or multi-line addresses.
        list.record("", .failed, now: t0 + 6)
        list.record(String(repeating: "a", count: 600) + "@x.test", .failed, now: t0 + 6)
        list.record("a\nb@x.test", .failed, now: t0 + 6)
        #expect(list.entries.count == 3)
    }

    @Test func fileFormRoundTripsAndSkipsDamage() {
        var list = SuppressionList()
        list.record("a@x.test", .failed, now: t0)
        list.record("b@x.test", .deferred, now: t0 + 1)
        let bytes = list.encoded(now: t0 + 2)
        #expect(String(decoding: bytes, as: UTF8.self) == "\(t0) Fa@x.test\n\(t0 + 1) Db@x.test\n")
        #expect(SuppressionList.decode(bytes, now: t0 + 2) == list)
        let damaged = Array("garbage\n\(t0) Xc@x.test\n\(t0) F\n\(t0 - 9000) Fold@x.test\nnot-a-time Fd@x.test\n".utf8) + bytes
        #expect(SuppressionList.decode(damaged, now: t0 + 2) == list)
        #expect(SuppressionList.decode(bytes, now: t0 + 2, capacity: 1).addresses(now: t0 + 2) == ["b@x.test"])
    }
}

@Suite struct SuppressionStoreTests {
    @Test func updatesAreAtomicAndSeenByOtherStores() throws {
        let directory = temporaryDirectory()
        let path = directory + "/track/backscatter"
        let clock = Mutex<Int64>(1_800_000_000)
        let writer = SuppressionStore(path: path, clock: { clock.withLock { $0 } })
        let reader = SuppressionStore(path: path, clock: { clock.withLock { $0 } })
        // Never read yet: nothing to answer from memory.
        #expect(reader.cached() == nil)
        #expect(reader.current().entries.isEmpty)
        #expect(reader.cached() != nil)
        try writer.record([("a@x.test", .failed), ("b@x.test", .deferred)])
        // The reader's memory is fresh for a few seconds; a new generation or `current()` rereads.
        #expect(reader.cached()?.entries.isEmpty == true)
        #expect(reader.cached(generation: 1) == nil)
        #expect(reader.current(generation: 1).refusal(for: "a@x.test", now: 1_800_000_000) == .failed)
        #expect(reader.cached(generation: 1)?.refusal(for: "b@x.test", now: 1_800_000_000) == .deferred)
        try reader.update { $0.clear("a@x.test") }
        #expect(writer.current().addresses(now: 1_800_000_000) == ["b@x.test"])
        clock.withLock { $0 += 10 }
        #expect(writer.cached() == nil)
        #expect(FileIO.list(directory + "/track") == ["backscatter", "backscatter.lock"])
    }
}
