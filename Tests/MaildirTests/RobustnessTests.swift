#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Testing
@testable import Maildir

@Suite struct RobustnessTests {
    @Test(arguments: ["", "garbage\n", "1 795709052", "2 795709052 4\n1 x\n", "1 795709052 4\n1 a\n1 b\nzz\n"])
    func damagedUIDDatabaseIsRecovered(_ content: String) async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        for i in 1...3 { try deliver("Subject: \(i)\n\n", to: root) }
        let store = MailStore(root: root)
        _ = try await store.open(.inbox)
        writeFile(root + "/courierimapuiddb", content)
        let box = try await store.open(.inbox)
        let snap = await box.snapshot
        #expect(snap.messages.count == 3)
        #expect(Set(snap.messages.map(\.uid)).count == 3)
        #expect(snap.messages.allSatisfy { $0.uid < snap.uidNext })
        #expect(readText(root + "/courierimapuiddb")?.hasPrefix("1 ") == true)
    }

    @Test func damagedKeywordListIsIgnored() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: 1\n\n", to: root)
        let store = MailStore(root: root)
        let box = try await store.open(.inbox)
        try await box.setFlags(uids: [1], flags: [], keywords: ["Work"], operation: .add)
        _ = try await store.open(.inbox)
        writeFile(root + "/courierimapkeywords/:list", "Work\n\nno-such-message:0\nbroken line without colon\n\u{1}:99 x\n")
        let again = try await store.open(.inbox)
        #expect(await again.snapshot.messages.count == 1)
    }

    @Test func damagedMaildirsizeIsRecalculated() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try Maildir(path: root).quota.setQuota(QuotaSpec("100000S"))
        try deliver("Subject: 1\n\nbody\n", to: root)
        writeFile(root + "/maildirsize", "100000S\n  -9999 -7\nnot numbers\n")
        let q = try #require(try await MailStore(root: root).quota())
        #expect(q.usage == QuotaUsage(bytes: Int64("Subject: 1\n\nbody\n".utf8.count), messages: 1))
    }

    @Test func overQuotaAppendLeavesNothingBehind() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try Maildir(path: root).quota.setQuota(QuotaSpec("10S"))
        let store = MailStore(root: root)
        await #expect(throws: MailStoreError.quotaExceeded) {
            _ = try await store.append(to: .inbox, message: Array("Subject: too big\n\nbody\n".utf8))
        }
        #expect(SystemCall.names(in: root + "/cur").isEmpty)
        #expect(SystemCall.names(in: root + "/tmp").filter { !$0.hasSuffix(".lock") && $0 != "courier.lock" }.isEmpty)
    }

    /// Sessions append, flag, copy and expunge while deliveries arrive: afterwards every
    /// message has exactly one UID, no UID was given twice, and the uid database agrees.
    @Test func concurrentSessionsAndDeliveries() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let store = MailStore(root: root)
        let archive = try MailboxName(imap: "INBOX.Archive")
        try await store.create(archive)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<60 { try deliver("Subject: d\(i)\n\n", to: root) }
            }
            group.addTask {
                for i in 0..<30 { _ = try await store.append(to: .inbox, message: Array("Subject: a\(i)\n\n".utf8)) }
            }
            for _ in 0..<2 {
                group.addTask {
                    let box = try await store.open(.inbox)
                    for _ in 0..<15 {
                        try await box.refresh()
                        let uids = await box.snapshot.messages.map(\.uid)
                        if let first = uids.first {
                            try await box.setFlags(uids: [first], flags: .seen, operation: .add)
                            _ = try await box.copy(uids: [first], to: archive)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try await store.open(.inbox)
        let snap = await final.snapshot
        #expect(snap.messages.count == 90)
        #expect(Set(snap.messages.map(\.uid)).count == 90)
        #expect(Set(snap.messages.map(\.baseName)).count == 90)
        let db = try #require(readText(root + "/courierimapuiddb"))
        #expect(db.split(separator: "\n").count == 91)
        let archived = await (try store.open(archive)).snapshot.messages
        #expect(Set(archived.map(\.uid)).count == archived.count)
        #expect(archived.count == 30)
    }
}
