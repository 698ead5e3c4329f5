#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// Virtual shared folders: another account's folders under `#shared.`, as far as their ACLs go.
@Suite struct SharedFolderTests {
    @Test func anotherAccountsFolderByACL() throws {
        let own = try TemporaryMaildir()
        let bob = try TemporaryMaildir()
        let bobMaildir = Maildir(path: bob.path)
        try bobMaildir.createFolder(try FolderName("Team"))
        try bobMaildir.createFolder(try FolderName("Private"))
        try bob.deliver(sample, folder: "Team")
        var owner = MailboxTranscript(bob)
        _ = owner.run("x SELECT INBOX.Team")  // the owner's session moves the mail from new/ to cur/
        let acl = FolderACLStore(maildir: bobMaildir)
        var team = acl.read(try FolderName("Team"))
        team.set("user=u", "lr")
        try acl.write(team, for: try FolderName("Team"), owner: "")
        let indexFile = own.path + "/../index"
        let bobHome = String(bob.path.dropLast("/Maildir".count))
        let fd = open(indexFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = try SystemCall.writeAll(fd, Array("bob\t1\t1\t\(bobHome)\n".utf8), path: indexFile)
        close(fd)

        var t = MailboxTranscript(own)
        t.mailbox.sharedIndex = SharedIndex(indexFile: indexFile)
        let list = t.run("a LIST \"\" \"#shared.*\"")
        #expect(list == "* LIST (\\Noselect \\HasChildren) \".\" \"#shared.bob\"\r\n* LIST (\\HasNoChildren) \".\" \"#shared.bob.Team\"\r\na OK LIST completed\r\n")
        // Read-only by rights (no i e s t w): EXAMINE-like even for SELECT.
        let select = t.run("b SELECT #shared.bob.Team")
        #expect(select.contains("* 1 EXISTS\r\n") && select.contains("[MYRIGHTS \"lr\"]") && select.hasSuffix("b OK [READ-ONLY] Ok\r\n"))
        #expect(t.run("c FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])").contains("Subject: Hi"))
        #expect(t.run("d STORE 1 +FLAGS (\\Seen)") == "d NO Current box is selected READ-ONLY.\r\n")
        #expect(t.run("e SELECT #shared.bob.Private").hasSuffix("e NO [NOPERM] Access denied for SELECT/EXAMINE on #shared.bob.Private (ACL \"r\" required)\r\n"))
        #expect(t.run("f STATUS #shared.nobody.x (MESSAGES)") == "f NO [NONEXISTENT] Mailbox does not exist, or must be subscribed to.\r\n")
        #expect(t.run("g MYRIGHTS #shared.bob.Team") == "* MYRIGHTS \"#shared.bob.Team\" \"lr\"\r\ng OK MYRIGHTS completed.\r\n")
        // The owner of bob's folders is not this user: LISTRIGHTS shows no fixed rights for u.
        #expect(t.run("h LISTRIGHTS #shared.bob.Team u") == "* LISTRIGHTS \"#shared.bob.Team\" \"u\" \"\" a c d i l p r s w\r\nh OK LISTRIGHTS completed.\r\n")
        // COPY out of the shared folder into the own INBOX; no MOVE out of a read-only folder.
        _ = t.run("h2 EXAMINE #shared.bob.Team")
        #expect(t.run("h3 COPY 1 INBOX").hasPrefix("h3 OK [COPYUID "))
        #expect(t.run("h4 MOVE 1 INBOX") == "h4 NO Current box is selected READ-ONLY.\r\n")
        // Back to the own INBOX.
        #expect(t.run("i SELECT INBOX").hasSuffix("i OK [READ-WRITE] Ok\r\n"))
        #expect(t.run("j SEARCH ALL") == "* SEARCH 1\r\nj OK SEARCH done.\r\n")
        // Into bob's folder only with `i` there.
        #expect(t.run("j2 COPY 1 #shared.bob.Team") == "j2 NO [NOPERM] Access denied for COPY on #shared.bob.Team (ACL \"i\" required)\r\n")
        team.set("user=u", "lri")
        try acl.write(team, for: try FolderName("Team"), owner: "")
        #expect(t.run("j3 COPY 1 #shared.bob.Team").hasPrefix("j3 OK [COPYUID "))
        #expect(t.run("j4 STATUS #shared.bob.Team (MESSAGES)") == "* STATUS \"#shared.bob.Team\" (MESSAGES 2)\r\nj4 OK STATUS Completed.\r\n")
        // Names that try to leave the shared account are refused.
        #expect(t.run("k SELECT #shared.bob/../x").hasPrefix("k NO "))
        #expect(t.run("l SELECT #shared.bob..Team").hasPrefix("l NO "))
    }
}
