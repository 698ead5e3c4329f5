#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

@Suite struct DeliveryTests {
    @Test func deliveredFileHasCouriersNameAndContent() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let text = "Subject: hello\n\nbody\n"
        let d = try deliver(text, to: md)
        #expect(d.size == Int64(text.utf8.count))
        #expect(d.path == md + "/new/" + d.fileName.name)
        #expect(readText(d.path) == text)
        #expect(names(md + "/tmp") == [])
        // <secs>.M<usecs>P<pid>V<16 hex>I<16 hex>.<host>,S=<size>
        let parts = d.fileName.name.split(separator: ".", maxSplits: 1)
        #expect(Int(parts[0]) != nil)
        let rest = String(parts[1])
        #expect(rest.hasPrefix("M"))
        #expect(rest.contains("P\(getpid())V"))
        #expect(rest.hasSuffix(",S=\(text.utf8.count)"))
        let v = try #require(rest.firstRange(of: "V"))
        let hex = rest[v.upperBound...].prefix(16)
        #expect(hex.count == 16 && hex.allSatisfy { $0.isHexDigit && !$0.isLowercase })
        #expect(d.fileName.sizeHint == Int64(text.utf8.count))
    }

    @Test func manyDeliveriesInOneSecondGetDistinctNames() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        var seen = Set<String>()
        for i in 0..<200 {
            seen.insert(try deliver("n \(i)\n", to: md).fileName.name)
        }
        #expect(seen.count == 200)
        #expect(names(md + "/new").count == 200)
    }

    @Test func deliveryIntoCurWithFlags() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let m = try PendingMessage(folderPath: md, uniq: "0")
        try m.write(Array("x\n".utf8))
        let d = try m.commit(to: .cur(MessageFlags("SF")))
        #expect(d.fileName.name.hasSuffix("_0.\(UniqueName.escapeHost(SystemCall.hostName())),S=2:2,FS"))
        #expect(names(md + "/cur") == [d.fileName.name])
    }

    @Test func emptyMessageHasNoSizeAndNoQuotaLine() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        try MaildirQuota(folderPath: md).setQuota(QuotaSpec("10S"))
        let d = try deliver("", to: md)
        #expect(!d.fileName.name.contains(",S="))
        #expect(readText(md + "/maildirsize") == "10S\n           0            0\n")
    }

    @Test func missingMaildirIsATypedTemporaryError() {
        do {
            _ = try PendingMessage(folderPath: "/nonexistent/maildir")
            Issue.record("created")
        } catch {
            #expect(error.errnoValue == ENOENT)
            #expect(error.isTemporary)
        }
    }

    @Test func abortAndDroppingLeaveNothing() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let m = try PendingMessage(folderPath: md)
        try m.write(Array("partial".utf8))
        #expect(names(md + "/tmp").count == 1)
        m.abort()
        #expect(names(md + "/tmp") == [])
        do {
            let n = try PendingMessage(folderPath: md)
            try n.write(Array("dropped".utf8))
        }
        #expect(names(md + "/tmp") == [])
    }

    // Failure injection: whatever step fails, with ENOSPC or EIO, the error is typed and no file
    // is left in tmp/, new/ or cur/, and maildirsize is unchanged.
    @Test(arguments: [DeliveryStep.create, .write, .fsyncFile, .link, .syncDirectory], [ENOSPC, EIO])
    func failureAtAnyStepLeavesNoPartialFile(step: DeliveryStep, code: Int32) throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        try MaildirQuota(folderPath: md).setQuota(QuotaSpec("100000S"))
        let before = readText(md + "/maildirsize")
        do {
            let m = try PendingMessage(folderPath: md, injectFault: { $0 == step ? code : nil })
            try m.write(Array(String(repeating: "line of text\n", count: 1000).utf8))
            _ = try m.commit(to: step == .link ? .cur(MessageFlags("S")) : .new)
            Issue.record("delivery succeeded despite a fault at \(step)")
        } catch {
            #expect(error.errnoValue == code)
            #expect(error.isOutOfSpace == (code == ENOSPC))
            #expect(error.isTemporary)
        }
        #expect(names(md + "/tmp") == [])
        #expect(names(md + "/new") == [])
        #expect(names(md + "/cur") == [])
        let after = readText(md + "/maildirsize") ?? ""
        let file = MaildirSizeFile.parse(Array(after.utf8))
        #expect(file.usage == .zero)
        #expect(after.hasPrefix(before ?? "-"))
    }

    @Test func realFullDiskIsReported() throws {
        // /dev/full fails every write with ENOSPC: the writer maps it like any other failure.
        let fd = open("/dev/full", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        #expect(throws: MaildirError.system(operation: "write", path: "/dev/full", errno: ENOSPC)) {
            try SystemCall.writeAll(fd, [1, 2, 3], path: "/dev/full")
        }
    }

    @Test func mboxDeliveryQuotesFromLinesAndLocks() throws {
        let scratch = ScratchDirectory()
        let box = scratch.path + "/mbox"
        try MboxDelivery.append(mailboxPath: box, attempts: 1) { (w: MboxWriter) throws(MaildirError) in
            try w.writeRaw(MboxDelivery.fromLine(sender: "a@b", date: "Thu Nov 26 17:48:38 2026"))
            try w.writeQuoted(Array("Subject: x\n\nFrom here\n>From there\nFro\nFrom".utf8))
            try w.finish()
        }
        #expect(readText(box) == "From a@b Thu Nov 26 17:48:38 2026\nSubject: x\n\n>From here\n>>From there\nFro\nFrom\n\n")
        #expect(names(scratch.path) == ["mbox"])
    }

    @Test func mboxIsCutBackWhenWritingFails() throws {
        let scratch = ScratchDirectory()
        let box = scratch.path + "/mbox"
        writeFile(box, "From x Thu Nov 26 17:48:38 2026\nold\n\n")
        #expect(throws: MaildirError.self) {
            try MboxDelivery.append(mailboxPath: box, attempts: 1) { (w: MboxWriter) throws(MaildirError) in
                try w.writeRaw(Array("From y date\npartial".utf8))
                try w.flush()
                throw MaildirError.sourceFailed("connection lost")
            }
        }
        #expect(readText(box) == "From x Thu Nov 26 17:48:38 2026\nold\n\n")
        #expect(names(scratch.path) == ["mbox"])
    }

    @Test func mailboxLockExcludesASecondHolder() throws {
        let scratch = ScratchDirectory()
        let box = scratch.path + "/mbox"
        writeFile(box, "")
        guard case .success(let lock) = MailboxLock.attempt(mailboxPath: box) else {
            Issue.record("no lock")
            return
        }
        #expect(SystemCall.exists(box + ".lock"))
        #expect(readText(box + ".lock") == "\(getpid()):\(SystemCall.hostName())")
        if case .success = MailboxLock.attempt(mailboxPath: box) { Issue.record("locked twice") }
        lock.release()
        #expect(!SystemCall.exists(box + ".lock"))
        guard case .success(let again) = MailboxLock.attempt(mailboxPath: box) else {
            Issue.record("not released")
            return
        }
        again.release()
    }
}
