#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Testing
@testable import Maildir

@Suite struct FolderTests {
    @Test func listShowsHierarchyPlaceholdersAndSpecialUse() async throws {
        let scratch = Scratch()
        let store = MailStore(root: try scratch.maildir())
        for n in ["INBOX.Trash", "INBOX.Sent", "INBOX.Drafts", "INBOX.Archive.2024", "INBOX.R&AOk-sum&AOk-"] {
            try await store.create(MailboxName(imap: n))
        }
        // Creating INBOX.a.b creates only .a.b (access.md §1.3).
        #expect(!SystemCall.exists(store.maildir.path + "/.Archive"))
        #expect(SystemCall.exists(store.maildir.path + "/.Archive.2024/maildirfolder"))
        #expect(SystemCall.isDirectory(store.maildir.path + "/.Résumé/cur"))
        try await store.subscribe(MailboxName(imap: "INBOX.Sent"))
        let list = try await store.list()
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0.name.imapName(), $0) })
        #expect(list.first?.name == .inbox)
        #expect(byName["INBOX"]?.hasChildren == true)
        #expect(byName["INBOX.Archive"]?.attributes() == ["\\Noselect", "\\HasChildren"])
        #expect(byName["INBOX.Archive.2024"]?.attributes() == ["\\HasNoChildren"])
        #expect(byName["INBOX.Trash"]?.specialUse == .trash)
        #expect(byName["INBOX.Sent"]?.specialUse == .sent)
        #expect(byName["INBOX.Sent"]?.isSubscribed == true)
        #expect(byName["INBOX.Drafts"]?.attributes(includeSpecialUse: true) == ["\\HasNoChildren", "\\Drafts"])
        #expect(byName["INBOX.R&AOk-sum&AOk-"] != nil)
        #expect(readText(store.maildir.path + "/courierimapsubscribed") == "INBOX.Sent\n")
        try await store.unsubscribe(MailboxName(imap: "INBOX.Sent"))
        #expect(try await store.subscriptions().isEmpty)
    }

    @Test func createRenameDelete() async throws {
        let scratch = Scratch()
        let store = MailStore(root: try scratch.maildir())
        let a = try MailboxName(imap: "INBOX.a"), ab = try MailboxName(imap: "INBOX.a.b")
        try await store.create(a)
        try await store.create(ab)
        await #expect(throws: MailStoreError.self) { try await store.create(a) }
        await #expect(throws: MailStoreError.self) { try await store.create(.inbox) }
        try await store.rename(a, to: MailboxName(imap: "INBOX.z"))
        #expect(try await store.exists(MailboxName(imap: "INBOX.z.b")))
        #expect(try await !store.exists(ab))
        await #expect(throws: MailStoreError.mailboxNotFound("INBOX.a")) { try await store.rename(a, to: MailboxName(imap: "INBOX.y")) }
        await #expect(throws: MailStoreError.invalidName("INBOX")) { try await store.delete(.inbox) }
        try await store.delete(MailboxName(imap: "INBOX.z"))
        let names = try await store.list().map { $0.name.imapName() }
        #expect(names == ["INBOX", "INBOX.z", "INBOX.z.b"])
        #expect(try await store.list()[1].isPlaceholder)
    }

    @Test func quotaFromMaildirsize() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let store = MailStore(root: root)
        #expect(try await store.quota() == nil)
        try Maildir(path: root).quota.setQuota(QuotaSpec("1000S,10C"))
        try deliver("Subject: a\n\nhello\n", to: root)
        let q = try #require(try await store.quota())
        #expect(q.limit == QuotaSpec(bytes: 1000, messages: 10))
        #expect(q.usage == QuotaUsage(bytes: 18, messages: 1))
    }
}

@Suite struct MailboxTests {
    @Test func openAssignsUIDsCompatiblyAndRefreshReportsChanges() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        // Two deliveries in one second sort by name bytes, as Courier's do ("M99P" after
        // "M123P"), so the test gives them names a second apart to fix their order.
        for (second, text) in [(1_700_000_000, "Subject: one\n\nbody\n"), (1_700_000_001, "Subject: two\n\nbody\nmore\n")] {
            let delivered = try deliver(text, to: root)
            rename(delivered.path, root + "/new/\(second).M1P1.test,S=\(delivered.size)")
        }
        let store = MailStore(root: root)
        let box = try await store.open(.inbox)
        var snap = await box.snapshot
        #expect(snap.messages.map(\.uid) == [1, 2])
        #expect(snap.uidNext == 3)
        #expect(snap.messages[0].size == Int64("Subject: one\r\n\r\nbody\r\n".utf8.count))
        #expect(snap.messages[1].size == Int64("Subject: two\r\n\r\nbody\r\nmore\r\n".utf8.count))
        #expect(await box.isRecent(1))
        // new/ was moved to cur/ with :2, and courierimapuiddb written in Courier's format.
        #expect(SystemCall.names(in: root + "/new").isEmpty)
        let db = try #require(readText(root + "/courierimapuiddb"))
        let lines = db.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("1 ") && lines[0].hasSuffix(" 3"))
        #expect(lines[1] == "1 " + snap.messages[0].baseName)

        // Another process: a delivery, a flag change by rename, and an expunge.
        try deliver("Subject: three\n\nx\n", to: root)
        let first = snap.messages[0]
        rename(root + "/cur/" + first.fileName, root + "/cur/" + first.baseName + ":2,S")
        unlink(root + "/cur/" + snap.messages[1].fileName)
        let changes = try await box.refresh()
        #expect(changes.added == [3])
        #expect(changes.expunged == [2])
        #expect(changes.flagsChanged == [1])
        snap = await box.snapshot
        #expect(snap.message(uid: 1)?.flags == .seen)

        // UIDs are never reused and survive a second opener (another session).
        let other = try await store.open(.inbox)
        #expect(await other.snapshot.messages.map(\.uid) == [1, 3])
        #expect(await !other.isRecent(3))
        let status = try await store.status(.inbox)
        #expect(status.messages == 2 && status.unseen == 1 && status.uidNext == 4 && status.uidValidity == snap.uidValidity)
    }

    @Test func readOnlyOpenLeavesDiskAlone() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        try deliver("Subject: one\n\nbody\n", to: root)
        let box = try await MailStore(root: root).open(.inbox, readOnly: true)
        #expect(!SystemCall.exists(root + "/courierimapuiddb"))
        #expect(SystemCall.names(in: root + "/new").count == 1)
        #expect(await box.snapshot.messages.isEmpty)
        await #expect(throws: MailStoreError.readOnly) { try await box.expunge() }
    }

    @Test func appendWithFlagsKeywordsAndDate() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        let store = MailStore(root: root)
        try await store.create(MailboxName(imap: "INBOX.Sent"))
        let sent = try MailboxName(imap: "INBOX.Sent")
        let (validity, uid) = try await store.append(to: sent, message: Array("Subject: hi\r\n\r\nbody\r\n".utf8),
                                                     flags: [.seen, .flagged], keywords: ["$Junk", "Work"],
                                                     internalDate: 1_000_000_000)
        #expect(uid == 1)
        let (_, uid2) = try await store.append(to: sent, message: Array("Subject: 2\n\n".utf8))
        #expect(uid2 == 2)
        let box = try await store.open(sent)
        let snap = await box.snapshot
        #expect(snap.uidValidity == validity)
        let m = try #require(snap.message(uid: 1))
        #expect(m.flags == [.seen, .flagged])
        #expect(m.fileName.hasSuffix(":2,FS"))
        #expect(m.keywords == ["$Junk", "Work"])
        #expect(m.internalDate == 1_000_000_000)
        #expect(m.size == Int64("Subject: hi\r\n\r\nbody\r\n".utf8.count))
        // Stored with LF line ends, as Courier stores it.
        let reader = try await box.openMessage(uid: 1)
        #expect(try await reader.readAll() == Array("Subject: hi\n\nbody\n".utf8))
        await #expect(throws: MailStoreError.invalidKeyword("bad word")) {
            _ = try await store.append(to: sent, message: [], keywords: ["bad word"])
        }
        await #expect(throws: MailStoreError.self) {
            _ = try await store.append(to: MailboxName(imap: "INBOX.Nope"), message: Array("x\n".utf8))
        }
    }

    @Test func setFlagsKeywordsAndExpunge() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        for i in 1...3 { try deliver("Subject: \(i)\n\n", to: root) }
        let store = MailStore(root: root)
        let box = try await store.open(.inbox)
        let changed = try await box.setFlags(uids: [1, 2], flags: [.seen, .deleted], keywords: ["$Forwarded"], operation: .add)
        #expect(changed.map(\.uid) == [1, 2])
        #expect(changed.allSatisfy { $0.fileName.hasSuffix(":2,ST") && $0.keywords == ["$Forwarded"] })
        try await box.setFlags(uids: [2], flags: [.deleted], operation: .remove)
        // A second session sees the keywords and flags.
        let other = try await store.open(.inbox)
        let seen = await other.snapshot.messages
        #expect(seen.map(\.keywords) == [["$Forwarded"], ["$Forwarded"], []])
        #expect(seen.map(\.flags) == [[.seen, .deleted], [.seen], []])
        // Flags changed under us (the other session) are followed by base name.
        try await other.setFlags(uids: [1], flags: [.answered], operation: .add)
        let expunged = try await box.expunge()
        #expect(expunged == [1])
        #expect(await box.snapshot.messages.map(\.uid) == [2, 3])
        let changes = try await other.refresh()
        #expect(changes.expunged == [1])
    }

    @Test func copyAndMoveKeepFlagsKeywordsAndReturnUIDs() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        for i in 1...3 { try deliver("Subject: \(i)\n\nline\n", to: root) }
        let store = MailStore(root: root)
        let archive = try MailboxName(imap: "INBOX.Archive")
        try await store.create(archive)
        let box = try await store.open(.inbox)
        try await box.setFlags(uids: [2], flags: [.flagged], keywords: ["Project"], operation: .replace)
        let copied = try await box.copy(uids: [2, 3], to: archive)
        #expect(copied.pairs == [UIDPair(source: 2, destination: 1), UIDPair(source: 3, destination: 2)])
        let moved = try await box.move(uids: [1], to: archive)
        #expect(moved.copy.pairs == [UIDPair(source: 1, destination: 3)])
        #expect(moved.expunged == [1])
        #expect(await box.snapshot.messages.map(\.uid) == [2, 3])
        let target = try await store.open(archive)
        let snap = await target.snapshot
        #expect(snap.uidValidity == copied.uidValidity)
        #expect(snap.messages.map(\.uid) == [1, 2, 3])
        #expect(snap.message(uid: 1)?.flags == .flagged)
        #expect(snap.message(uid: 1)?.keywords == ["Project"])
        #expect(snap.message(uid: 1)?.internalDate == (await box.snapshot.message(uid: 2)?.internalDate))
        await #expect(throws: MailStoreError.mailboxNotFound("INBOX.Nope")) {
            _ = try await box.copy(uids: [2], to: MailboxName(imap: "INBOX.Nope"))
        }
    }

    @Test func messageBytesInChunks() async throws {
        let scratch = Scratch()
        let root = try scratch.maildir()
        var text = "Subject: big\n\n"
        for i in 0..<5000 { text += "line \(i)\n" }
        try deliver(text, to: root)
        let box = try await MailStore(root: root).open(.inbox)
        let reader = try await box.openMessage(uid: 1)
        #expect(reader.size == Int64(text.utf8.count))
        var collected: [UInt8] = []
        var chunks = 0
        for try await chunk in reader.chunks(chunkSize: 4096) {
            #expect(chunk.count <= 4096)
            collected += chunk
            chunks += 1
        }
        #expect(collected == Array(text.utf8))
        #expect(chunks > 1)
        #expect(try await reader.read(offset: 6, maxLength: 3) == Array("t: ".utf8))
        reader.close()
        await #expect(throws: MailStoreError.self) { _ = try await reader.read(offset: 0, maxLength: 1) }
        await #expect(throws: MailStoreError.noSuchMessage(99)) { _ = try await box.openMessage(uid: 99) }
    }
}
