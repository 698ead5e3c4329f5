#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Synchronization
import Testing
@testable import Maildir

/// Counts the events of a watch from one consuming task (an AsyncStream ends when the task
/// iterating it is cancelled, so the test never races a second iterator against it).
private final class EventCounter: Sendable {
    final class Count: Sendable { let value = Mutex(0) }
    let count = Count()
    let consumer: Task<Void, Never>

    init(_ watch: MailboxWatch) {
        let count = self.count
        consumer = Task {
            for await _ in watch.events { count.value.withLock { $0 += 1 } }
        }
    }

    deinit { consumer.cancel() }

    var value: Int { count.value.withLock { $0 } }

    /// Waits until the count exceeds `old`; the 30 s guard only keeps a broken watcher from
    /// hanging the run.
    func waitForMore(than old: Int) async -> Bool {
        for _ in 0..<3000 {
            if value > old { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

@Suite struct WatchTests {
    @Test func deliveryAndFlagChangeWakeTheWatcher() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let store = MailStore(root: root)
        let box = try await store.open(.inbox)
        let watch = box.watch()
        #expect(watch.isRealtime)
        let counter = EventCounter(watch)

        var seen = counter.value
        try deliver("Subject: new\n\n", to: root)
        #expect(await counter.waitForMore(than: seen))
        #expect(try await box.refresh().added == [1])

        // A flag change by another session (a rename in cur/).
        let other = try await store.open(.inbox)
        seen = counter.value
        try await other.setFlags(uids: [1], flags: .seen, operation: .add)
        #expect(await counter.waitForMore(than: seen))
        #expect(try await box.refresh().flagsChanged == [1])

        // An expunge by another session.
        try await other.setFlags(uids: [1], flags: .deleted, operation: .add)
        seen = counter.value
        _ = try await other.expunge()
        #expect(await counter.waitForMore(than: seen))
        #expect(try await box.refresh().expunged == [1])
    }

    @Test func endingOneWatchLeavesTheOtherWorking() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let store = MailStore(root: root)
        let a = EventCounter(store.watch(.inbox))
        do {
            let b = EventCounter(store.watch(.inbox))
            b.consumer.cancel()
            await b.consumer.value
        }
        try deliver("Subject: x\n\n", to: root)
        #expect(await a.waitForMore(than: 0))
    }

    @Test func curIsWatchedForItsEntriesOnly() {
        // An event on cur/'s files would make the kernel mark each of its entries on every new
        // watch; every other directory also catches a file written in place.
        #expect(MaildirWatchEvents.mask(for: "cur") == MaildirWatchEvents.entries)
        #expect(MaildirWatchEvents.mask(for: "cur") & UInt32(IN_CLOSE_WRITE) == 0)
        for other in ["", "new", "courierimapkeywords"] {
            #expect(MaildirWatchEvents.mask(for: other) == MaildirWatchEvents.entries | UInt32(IN_CLOSE_WRITE))
        }
    }
}
