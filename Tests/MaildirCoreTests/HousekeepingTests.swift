#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

struct HousekeepingTests {
    @Test func parsesEmptyTrashSettings() {
        #expect(EmptyTrashRule.parse("Trash:7") == [EmptyTrashRule(folder: "Trash", days: 7)])
        #expect(EmptyTrashRule.parse("Trash:7, Sent:30,bad,Junk:0,:4,Old.Spam:1") == [
            EmptyTrashRule(folder: "Trash", days: 7), EmptyTrashRule(folder: "Sent", days: 30),
            EmptyTrashRule(folder: "Old.Spam", days: 1)])
        #expect(EmptyTrashRule.parse("") == [])
    }

    @Test func purgesOldMessagesAndKeepsQuotaRight() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        let maildir = Maildir(path: path)
        try maildir.createFolder(try FolderName("Trash"))
        try maildir.createFolder(try FolderName("Sent"))
        try maildir.quota.setQuota(QuotaSpec("1000000S"))
        try deliver("Subject: inbox\n\nkeep me\n", to: path)
        try deliver("Subject: trash\n\nold trash\n", to: path + "/.Trash")
        try deliver("Subject: sent\n\nold sent\n", to: path + "/.Sent")
        let before = try #require(maildir.quota.read()).file.usage
        let now = SystemCall.now().seconds
        // Six days on, nothing is old enough for Trash:7.
        #expect(maildir.housekeeping(emptyTrash: EmptyTrashRule.parse("Trash:7,Sent:30"), now: now + 6 * 86_400) == 0)
        // Eight days on, Trash is purged, Sent (30 days) and INBOX are kept.
        #expect(maildir.housekeeping(emptyTrash: EmptyTrashRule.parse("Trash:7,Sent:30"), now: now + 8 * 86_400) == 1)
        #expect(names(path + "/.Trash/new").isEmpty && names(path + "/.Trash/cur").isEmpty)
        #expect(names(path + "/.Sent/new").count == 1 && names(path + "/new").count == 1)
        // Trash never counted, so usage is unchanged; purging Sent takes it off the quota.
        #expect(try #require(maildir.quota.read()).file.usage == before)
        #expect(maildir.housekeeping(emptyTrash: EmptyTrashRule.parse("INBOX.Sent:1"), now: now + 2 * 86_400) == 1)
        let after = try #require(maildir.quota.read()).file.usage
        #expect(after.messages == before.messages - 1)
    }

    @Test func oldTemporaryFilesGo() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        writeFile(path + "/tmp/123.leftover", "partial")
        Maildir(path: path).housekeeping(emptyTrash: [])
        #expect(names(path + "/tmp") == ["123.leftover"])  // fresh: kept
    }
}
