#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// LIST-MYRIGHTS and the LIST-EXTENDED combinations, QRESYNC seq-match-data, and COPY/MOVE
/// into and out of another account's shared folder.
@Suite struct IMAPExtrasTests {
    /// bob's Maildir with `INBOX.Team` holding `count` messages, shared with `u` by `rights`,
    /// and the shared index naming bob.
    static func bobSharing(_ rights: String, messages count: Int, own: TemporaryMaildir,
                           bob: TemporaryMaildir) throws -> String {
        let bobMaildir = Maildir(path: bob.path)
        try bobMaildir.createFolder(try FolderName("Team"))
        for _ in 0..<count { try bob.deliver(sample, folder: "Team") }
        var owner = MailboxTranscript(bob)
        _ = owner.run("x SELECT INBOX.Team")
        let acl = FolderACLStore(maildir: bobMaildir)
        var team = acl.read(try FolderName("Team"))
        team.set("user=u", ACLRights(rights))
        try acl.write(team, for: try FolderName("Team"), owner: "")
        let indexFile = own.path + "/../index"
        let bobHome = String(bob.path.dropLast("/Maildir".count))
        let fd = open(indexFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = try SystemCall.writeAll(fd, Array("bob\t1\t1\t\(bobHome)\n".utf8), path: indexFile)
        close(fd)
        return indexFile
    }

    @Test func listReturnsMyRightsAndStatusOnlyWhereReadable() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        var t = MailboxTranscript(m)
        #expect(t.run("a CREATE INBOX.Drop").hasPrefix("a OK"))
        // `l` and `i` only: listed, but STATUS would need `r`.
        #expect(t.run("b SETACL INBOX.Drop owner li").hasPrefix("b NO"))   // the owner keeps every right
        let acl = FolderACLStore(maildir: Maildir(path: m.path))
        var drop = acl.read(try FolderName("Drop"))
        drop.set("owner", "ail")
        try acl.write(drop, for: try FolderName("Drop"), owner: "user=u")
        let list = t.run("c LIST \"\" \"*\" RETURN (MYRIGHTS STATUS (MESSAGES))")
        #expect(list == """
            * LIST (\\HasChildren) "." "INBOX"\r
            * STATUS "INBOX" (MESSAGES 1)\r
            * MYRIGHTS "INBOX" "acdilrsw"\r
            * LIST (\\HasNoChildren) "." "INBOX.Drop"\r
            * MYRIGHTS "INBOX.Drop" "ail"\r
            c OK LIST completed\r

            """)
    }

    @Test func recursiveMatchWithSpecialUse() throws {
        let m = try TemporaryMaildir()
        var t = MailboxTranscript(m)
        #expect(t.run("a CREATE INBOX.Archive").hasPrefix("a OK"))
        #expect(t.run("b CREATE INBOX.Projects").hasPrefix("b OK"))
        // RFC 5258 §3: a parent that does not meet SPECIAL-USE but has a child that does.
        let list = t.run("c LIST (SPECIAL-USE RECURSIVEMATCH) \"\" \"%\"")
        #expect(list == "* LIST (\\HasChildren) \".\" \"INBOX\" (\"CHILDINFO\" (\"SPECIAL-USE\"))\r\nc OK LIST completed\r\n")
        #expect(t.run("d LIST (SPECIAL-USE) \"\" \"*\"") == "* LIST (\\HasNoChildren \\Archive) \".\" \"INBOX.Archive\"\r\nd OK LIST completed\r\n")
        #expect(t.run("e LIST (REMOTE) \"\" \"INBOX\"") == "* LIST (\\HasChildren) \".\" \"INBOX\"\r\ne OK LIST completed\r\n")
    }

    @Test func sharedListingCarriesMyRights() throws {
        let own = try TemporaryMaildir()
        let bob = try TemporaryMaildir()
        let index = try Self.bobSharing("lri", messages: 2, own: own, bob: bob)
        var t = MailboxTranscript(own)
        t.mailbox.sharedIndex = SharedIndex(indexFile: index)
        // `lri`: listed with its rights; no STATUS without `r`... here `r` is there.
        let list = t.run("a LIST \"\" \"#shared.*\" RETURN (MYRIGHTS STATUS (MESSAGES))")
        #expect(list == """
            * LIST (\\Noselect \\HasChildren) "." "#shared.bob"\r
            * LIST (\\HasNoChildren) "." "#shared.bob.Team"\r
            * STATUS "#shared.bob.Team" (MESSAGES 2)\r
            * MYRIGHTS "#shared.bob.Team" "ilr"\r
            a OK LIST completed\r

            """)
        #expect(t.run("b LIST (SUBSCRIBED) \"\" \"#shared.*\"") == "b OK LIST completed\r\n")
    }

    @Test func seqMatchDataNarrowsVanishedEarlier() throws {
        let m = try TemporaryMaildir()
        for _ in 0..<6 { try m.deliver(sample) }
        var a = MailboxTranscript(m)
        _ = a.run("a ENABLE QRESYNC")
        let select = a.run("b SELECT INBOX")
        let validity = try #require(number(after: "[UIDVALIDITY", in: select))
        _ = a.run("c STORE 2 +FLAGS (\\Deleted)")
        _ = a.run("d EXPUNGE")
        // The client knew 1,3,4,5,6 at numbers 1-5; then 5 goes too.
        _ = a.run("e UID STORE 5 +FLAGS (\\Deleted)")
        _ = a.run("f EXPUNGE")
        var b = MailboxTranscript(m)
        _ = b.run("a ENABLE QRESYNC")
        // MODSEQ 1 is older than the log: every gap below UIDNEXT is reported...
        let full = b.run("b SELECT INBOX (QRESYNC (\(validity) 1))")
        #expect(full.contains("* VANISHED (EARLIER) 2,5\r\n"))
        // ...unless the message numbers the client names still have the UIDs it believes:
        // 1→1, 2→3, 3→4 match, so nothing up to UID 4 has gone.
        let narrowed = b.run("c SELECT INBOX (QRESYNC (\(validity) 1 (1:3 1,3:4)))")
        #expect(narrowed.contains("* VANISHED (EARLIER) 5\r\n"))
        // The walk stops at the first mismatch (number 4 is UID 6 now, not 5).
        let mismatch = b.run("d SELECT INBOX (QRESYNC (\(validity) 1 (1,4 1,5)))")
        #expect(mismatch.contains("* VANISHED (EARLIER) 2,5\r\n"))
        // A number past the end of the mailbox matches nothing.
        #expect(b.run("e SELECT INBOX (QRESYNC (\(validity) 1 (9 9)))").contains("* VANISHED (EARLIER) 2,5\r\n"))
        // Uneven sets: BAD.
        #expect(b.run("f SELECT INBOX (QRESYNC (\(validity) 1 (1:3 1,3)))").hasPrefix("f BAD "))
        // known-uids and seq-match-data together.
        let both = b.run("g SELECT INBOX (QRESYNC (\(validity) 1 1:4 (1:3 1,3:4)))")
        #expect(!both.contains("VANISHED"))
    }

    @Test func moveIntoAndOutOfASharedFolder() throws {
        let own = try TemporaryMaildir()
        let bob = try TemporaryMaildir()
        for _ in 0..<2 { try own.deliver(sample) }
        let index = try Self.bobSharing("lri", messages: 1, own: own, bob: bob)
        var t = MailboxTranscript(own)
        t.mailbox.sharedIndex = SharedIndex(indexFile: index)
        _ = t.run("a SELECT INBOX")
        // `i` on bob's folder: the own message moves there, with COPYUID and EXPUNGE.
        let move = t.run("b MOVE 1 #shared.bob.Team")
        #expect(move.hasPrefix("* OK [COPYUID "))
        #expect(move.hasSuffix("* 1 EXPUNGE\r\nb OK MOVE completed.\r\n"))
        #expect(t.run("c STATUS #shared.bob.Team (MESSAGES)") == "* STATUS \"#shared.bob.Team\" (MESSAGES 2)\r\nc OK STATUS Completed.\r\n")
        #expect(t.run("d STATUS INBOX (MESSAGES)") == "* STATUS \"INBOX\" (MESSAGES 1)\r\nd OK STATUS Completed.\r\n")
        // Out of bob's folder needs `e` and `t` there: `lri` is not enough.
        _ = t.run("e SELECT #shared.bob.Team")
        #expect(t.run("f MOVE 1 INBOX") == "f NO [NOPERM] Access denied for MOVE on current mailbox (ACL \"e\" required)\r\n")
        let bobMaildir = Maildir(path: bob.path)
        let acl = FolderACLStore(maildir: bobMaildir)
        var team = acl.read(try FolderName("Team"))
        team.set("user=u", "lrietsw")
        try acl.write(team, for: try FolderName("Team"), owner: "")
        _ = t.run("g SELECT #shared.bob.Team")
        _ = t.run("h ENABLE QRESYNC")
        let back = t.run("i UID MOVE 1 INBOX")
        #expect(back.hasPrefix("* OK [COPYUID "))
        #expect(back.contains("* VANISHED 1\r\n") && !back.contains("EXPUNGE\r\n"))
        #expect(back.hasSuffix("i OK MOVE completed.\r\n"))
        #expect(t.run("j STATUS INBOX (MESSAGES)") == "* STATUS \"INBOX\" (MESSAGES 2)\r\nj OK STATUS Completed.\r\n")
        #expect(t.run("k STATUS #shared.bob.Team (MESSAGES)") == "* STATUS \"#shared.bob.Team\" (MESSAGES 1)\r\nk OK STATUS Completed.\r\n")
    }
}
