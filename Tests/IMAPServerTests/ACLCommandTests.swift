import Dispatch
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// RFC 4314 commands and enforcement, with the answers Courier's imapd gives (observed).
@Suite struct ACLCommandTests {
    @Test func defaultsAndCouriersTexts() throws {
        let m = try TemporaryMaildir()
        var t = MailboxTranscript(m)
        #expect(t.run("a MYRIGHTS INBOX") == "* MYRIGHTS \"INBOX\" \"acdilrsw\"\r\na OK MYRIGHTS completed.\r\n")
        #expect(t.run("b GETACL INBOX") == "* ACL \"INBOX\" \"owner\" \"acdilrsw\" \"administrators\" \"acdilrsw\"\r\nb OK GETACL completed.\r\n")
        #expect(t.run("c SETACL INBOX bob lr") == "c OK ACLs updated.\r\n")
        #expect(t.run("d GETACL INBOX").hasPrefix("* ACL \"INBOX\" \"owner\" \"acdilrsw\" \"administrators\" \"acdilrsw\" \"bob\" \"lr\"\r\n"))
        #expect(t.run("e LISTRIGHTS INBOX bob") == "* LISTRIGHTS \"INBOX\" \"bob\" \"\" a c d i l p r s w\r\ne OK LISTRIGHTS completed.\r\n")
        #expect(t.run("f LISTRIGHTS INBOX u") == "* LISTRIGHTS \"INBOX\" \"u\" \"al\" c d i p r s w\r\nf OK LISTRIGHTS completed.\r\n")
        #expect(t.run("g LISTRIGHTS INBOX -u") == "* LISTRIGHTS \"INBOX\" \"-u\" \"\" c d i p r s w\r\ng OK LISTRIGHTS completed.\r\n")
        #expect(t.run("h SETACL INBOX user=x l") == "h NO Invalid ACL identifier.\r\n")
        #expect(t.run("i SETACL INBOX owner -a") == "i NO [NOPERM] Cannot modify ACLs as requested.\r\n")
        #expect(t.run("j SETACL INBOX owner lr") == "j NO [NOPERM] Cannot modify ACLs on this mailbox.\r\n")
        #expect(t.run("k SETACL INBOX -anyone w") == "k NO [NOPERM] Cannot modify ACLs on this mailbox.\r\n")
        #expect(t.run("l MYRIGHTS INBOX.Nope") == "l NO [NONEXISTENT] Mailbox does not exist, or must be subscribed to.\r\n")
        #expect(t.run("m DELETEACL INBOX bob") == "m OK ACLs updated.\r\n")
        let file = try SystemCall.readFile(m.path + "/courierimapacl").map { String(decoding: $0, as: UTF8.self) }
        #expect(file == "owner aceilrstwx\nadministrators aceilrstwx\n")
    }

    @Test func foldersInheritAndRightsAreEnforced() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        var t = MailboxTranscript(m)
        _ = t.run("a SETACL INBOX -u c")
        #expect(t.run("b CREATE INBOX.x") == "b NO [NOPERM] Access denied for CREATE on INBOX (ACL \"c\" required)\r\n")
        _ = t.run("c SETACL INBOX -u -c")
        #expect(t.run("d CREATE INBOX.b") == "d OK \"INBOX.b\" created.\r\n")
        #expect(t.run("e SETACL INBOX.b anyone +d") == "e OK ACLs updated.\r\n")
        #expect(t.run("f SETACL INBOX.b owner -i") == "f OK ACLs updated.\r\n")
        #expect(t.run("g MYRIGHTS INBOX.b") == "* MYRIGHTS \"INBOX.b\" \"acdlrsw\"\r\ng OK MYRIGHTS completed.\r\n")
        #expect(t.run("h APPEND INBOX.b {3+}\r\nabc").hasSuffix("h NO [NOPERM] Access denied for APPEND on INBOX.b (ACL \"i\" required)\r\n"))
        _ = t.run("i SELECT INBOX")
        #expect(t.run("j COPY 1 INBOX.b") == "j NO [NOPERM] Access denied for COPY on INBOX.b (ACL \"i\" required)\r\n")
        _ = t.run("k SETACL INBOX.b -u r")
        #expect(t.run("l SELECT INBOX.b").hasSuffix("l NO [NOPERM] Access denied for SELECT/EXAMINE on INBOX.b (ACL \"r\" required)\r\n"))
        _ = t.run("m SETACL INBOX.b -u -r")
        let select = t.run("n SELECT INBOX.b")
        #expect(select.contains("* OK [MYRIGHTS \"acdlrsw\"] ACL\r\n"))
        _ = t.run("o SETACL INBOX.b -u l")  // owner cannot lose l
        #expect(t.run("p LIST \"\" *").contains("INBOX.b"))
        _ = t.run("q SETACL INBOX.b owner -x")
        _ = t.run("q2 SETACL INBOX.b anyone -x")
        #expect(t.run("r DELETE INBOX.b") == "r NO [NOPERM] Access denied for DELETE on INBOX.b (ACL \"x\" required)\r\n")
    }

    @Test func storeKeepsFlagsWithoutTheirRightAndExpungeNeedsE() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        var t = MailboxTranscript(m)
        _ = t.run("a SETACL INBOX owner -sw")
        let select = t.run("b SELECT INBOX")
        #expect(select.contains("[MYRIGHTS \"acdilr\"]"))
        #expect(t.run("c STORE 1 +FLAGS (\\Seen \\Flagged \\Deleted)") == "* 1 FETCH (FLAGS (\\Deleted \\Recent))\r\nc OK STORE completed.\r\n")
        _ = t.run("d SETACL INBOX owner -e")
        #expect(t.run("e EXPUNGE") == "e NO [NOPERM] Access denied for EXPUNGE on current mailbox (ACL \"e\" required)\r\n")
    }

    @Test func accountGroupsCount() throws {
        let m = try TemporaryMaildir()
        let options = MailboxOptions()
        let owner = MailboxSession(maildirPath: m.path, user: "u", options: options)
        var list = FolderACLStore(maildir: owner.maildir).read(nil)
        list.set("-group=staff", "rw")
        try FolderACLStore(maildir: owner.maildir).write(list, for: nil, owner: "user=u")
        #expect(owner.myRights(.inbox) == .all)
        owner.accountOptions = "disableshared=1,group=staff"
        #expect(owner.myRights(.inbox) == "aceilstx")
    }

    @Test func concurrentSetACLsAreAllKept() throws {
        let m = try TemporaryMaildir()
        _ = try Maildir(path: m.path).createFolder(try FolderName("Team"))
        let path = m.path
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let session = MailboxSession(maildirPath: path, user: "u")
            var transcript = IMAPSession(configuration: IMAPSessionConfiguration())
            _ = transcript.receive(command: Array("0 LOGIN u p".utf8))
            _ = transcript.loginFinished(tag: Array("0".utf8), user: "u")
            if case .mailbox(let tagged, _) = transcript.receive(command: Array("a\(i) SETACL INBOX.Team user\(i) lr".utf8)) {
                _ = session.run(tagged, utf8: false)
            }
        }
        let list = FolderACLStore(maildir: Maildir(path: m.path)).read(try FolderName("Team"))
        #expect((0..<8).allSatisfy { list.rights(of: "user=user\($0)") == "lr" })
        #expect(SystemCall.names(in: m.path + "/tmp").isEmpty)
    }
}
