#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

private func mail(_ subject: String) -> String {
    "From: a@example.test\nSubject: \(subject)\n\nbody \(subject)\n"
}

@Suite struct Rev2MailboxTests {
    @Test func rev2SelectHasNoRecentButAListResponse() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))
        try maildir.deliver(mail("two"))
        var t = MailboxTranscript(maildir)
        #expect(t.run("1 ENABLE IMAP4rev2").hasPrefix("* ENABLED IMAP4rev2\r\n"))
        let select = t.run("2 SELECT INBOX")
        #expect(select.contains("* 2 EXISTS\r\n"))
        #expect(!select.contains("RECENT") && !select.contains("\\Recent") && !select.contains("[UNSEEN"))
        #expect(select.contains("* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n"))
        #expect(!t.run("3 FETCH 1:* FLAGS").contains("\\Recent"))
        #expect(t.run("4 SEARCH NOT SEEN") == "* ESEARCH (TAG \"4\") ALL 1:2\r\n4 OK SEARCH done.\r\n")
        #expect(t.run("5 UID SEARCH SEEN") == "* ESEARCH (TAG \"5\") UID\r\n5 OK SEARCH done.\r\n")
        try maildir.deliver(mail("three"))
        let noop = t.run("6 NOOP")
        #expect(noop.contains("* 3 EXISTS\r\n") && !noop.contains("RECENT"))
    }

    @Test func enablingRev2WhileSelectedDropsRecent() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))
        var t = MailboxTranscript(maildir)
        #expect(t.run("1 SELECT INBOX").contains("* 1 RECENT\r\n"))
        #expect(t.run("2 FETCH 1 FLAGS").contains("(FLAGS (\\Recent))"))
        _ = t.run("3 ENABLE IMAP4rev2")
        #expect(t.run("4 FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ())\r\n4 OK FETCH completed.\r\n")
    }

    @Test func rev1SessionKeepsRecentAndSearch() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))
        var t = MailboxTranscript(maildir)
        let select = t.run("1 SELECT INBOX")
        #expect(select.contains("* 1 RECENT\r\n") && !select.contains("* LIST"))
        #expect(t.run("2 SEARCH ALL") == "* SEARCH 1\r\n2 OK SEARCH done.\r\n")
    }

    @Test func createSpecialUseIsStoredAndListed() throws {
        let maildir = try TemporaryMaildir()
        var t = MailboxTranscript(maildir)
        #expect(t.run("1 CREATE INBOX.Outbox (USE (\\Sent \\Archive))").hasPrefix("1 OK"))
        #expect(t.run("2 CREATE INBOX.Virtual (USE (\\Flagged))") == "2 NO [USEATTR] This special-use attribute is not supported.\r\n")
        #expect(!maildir_exists(maildir.path + "/.Virtual"))
        let list = t.run("3 LIST (SPECIAL-USE) \"\" \"*\"")
        #expect(list == "* LIST (\\HasNoChildren \\Sent \\Archive) \".\" \"INBOX.Outbox\"\r\n3 OK LIST completed\r\n")
        #expect(t.run("4 RENAME INBOX.Outbox INBOX.Sent2").hasPrefix("4 OK"))
        #expect(t.run("5 LIST \"\" INBOX.Sent2 RETURN (SPECIAL-USE)").contains("(\\HasNoChildren \\Sent \\Archive)"))
        // A folder with a conventional name keeps its attribute without CREATE (USE).
        #expect(t.run("6 CREATE INBOX.Drafts").hasPrefix("6 OK"))
        #expect(t.run("7 LIST \"\" INBOX.Drafts").contains("\\Drafts"))
    }

    @Test func listShowsSubscribedNamesThatAreGone() throws {
        let maildir = try TemporaryMaildir()
        var t = MailboxTranscript(maildir)
        _ = t.run("1 CREATE INBOX.A")
        _ = t.run("2 CREATE INBOX.A.B")
        _ = t.run("3 SUBSCRIBE INBOX.A.B")
        _ = t.run("4 SUBSCRIBE INBOX.Gone")
        let subscribed = t.run("5 LIST (SUBSCRIBED) \"\" \"*\"")
        #expect(subscribed.contains("* LIST (\\NonExistent \\Subscribed) \".\" \"INBOX.Gone\"\r\n"))
        #expect(subscribed.contains("* LIST (\\HasNoChildren \\Subscribed) \".\" \"INBOX.A.B\"\r\n"))
        #expect(!subscribed.contains("\"INBOX.A\"\r\n"))
        let recursive = t.run("6 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"INBOX.%\"")
        #expect(recursive.contains("* LIST (\\HasChildren) \".\" \"INBOX.A\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"))
        #expect(!t.run("7 LIST \"\" \"*\"").contains("Gone"))
        #expect(t.run("8 LSUB \"\" \"*\"").contains("* LSUB (\\Noselect) \".\" \"INBOX.Gone\"\r\n"))
        // RFC 9051 §6.3.5: INBOX.A is gone but INBOX.A.B is left: the name cannot be deleted again.
        #expect(t.run("9 DELETE INBOX.A").hasPrefix("9 OK"))
        #expect(t.run("10 LIST \"\" \"*\"").contains("* LIST (\\Noselect \\HasChildren) \".\" \"INBOX.A\"\r\n"))
        #expect(t.run("11 DELETE INBOX.A").hasPrefix("11 NO [HASCHILDREN]"))
    }

    @Test func statusSizeCountsCRLFAndDeleted() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))  // 4 lines: 4 more bytes with CRLF
        var t = MailboxTranscript(maildir)
        _ = t.run("1 SELECT INBOX")
        _ = t.run("2 STORE 1 +FLAGS (\\Deleted)")
        try maildir.deliver(mail("two"))  // still in new/
        let size = 2 * (mail("one").utf8.count + 4)
        #expect(t.run("3 STATUS INBOX (MESSAGES DELETED SIZE APPENDLIMIT)")
            == "* STATUS \"INBOX\" (MESSAGES 2 DELETED 1 SIZE \(size) APPENDLIMIT \(IMAPLimits().appendLiteral))\r\n3 OK STATUS Completed.\r\n")
    }

    @Test func renameInboxMovesMessagesAndLeavesInboxEmpty() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))
        try maildir.deliver(mail("two"))
        var t = MailboxTranscript(maildir)
        _ = t.run("1 SELECT INBOX")  // moves one message to cur/
        _ = t.run("1a STORE 2 +FLAGS (\\Flagged $Work)")
        try maildir.deliver(mail("three"))  // stays in new/
        _ = t.run("2 UNSELECT")
        _ = t.run("3 CREATE INBOX.Sub")
        #expect(t.run("4 RENAME INBOX INBOX.Old") == "4 OK INBOX renamed: 3 messages moved.\r\n")
        #expect(t.run("5 SELECT INBOX").contains("* 0 EXISTS\r\n"))
        #expect(t.run("6 SELECT INBOX.Old").contains("* 3 EXISTS\r\n"))
        #expect(t.run("6a SEARCH KEYWORD $Work") == "* SEARCH 2\r\n6a OK SEARCH done.\r\n")
        let flags = t.run("6b FETCH 2 FLAGS")
        #expect(flags.contains("\\Flagged") && flags.contains("$Work"))
        #expect(t.run("7 SELECT INBOX.Sub").hasSuffix("OK [READ-WRITE] Ok\r\n"))  // sub-folders stay
        #expect(t.run("8 RENAME INBOX INBOX.Old").hasPrefix("8 NO [ALREADYEXISTS]"))
    }

    @Test func binaryAppendRefusesContentThatCannotComeBack() throws {
        let maildir = try TemporaryMaildir()
        var t = MailboxTranscript(maildir)
        #expect(t.run("1 APPEND INBOX ~{9}\r\nA:b\r\n\r\n\0\n") == "1 NO [UNKNOWN-CTE] Binary content with bare LF bytes cannot be stored.\r\n")
        #expect(t.run("2 APPEND INBOX ~{9}\r\nA:b\r\n\r\n\0\r").hasPrefix("2 OK [APPENDUID "))
        #expect(MailboxSession.survivesLineEndConversion(Array("a\r\nb\r\n".utf8)))
        #expect(!MailboxSession.survivesLineEndConversion(Array("a\nb".utf8)))
    }

    @Test func binaryFetchOfAnUnknownEncodingFails() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver("Subject: uu\nMIME-Version: 1.0\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\nend\n")
        try maildir.deliver("Subject: b64\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n")
        var t = MailboxTranscript(maildir)
        _ = t.run("1 SELECT INBOX")
        #expect(t.run("2 FETCH 1 BINARY.PEEK[1]") == "* 1 FETCH (BINARY[1] NIL)\r\n2 NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding: cannot fetch BINARY.\r\n")
        #expect(t.run("3 FETCH 2 BINARY.SIZE[1]") == "* 2 FETCH (BINARY.SIZE[1] 5)\r\n3 OK FETCH completed.\r\n")
        // BODY[] of the same message is fine: only BINARY needs the decoding.
        #expect(t.run("4 FETCH 1 BODY.PEEK[1]").hasSuffix("4 OK FETCH completed.\r\n"))
    }

    @Test func fetchOfAMessageExpungedElsewhereSaysSo() throws {
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))
        var t = MailboxTranscript(maildir)
        _ = t.run("1 SELECT INBOX")
        // Another program removes the file; this session has not been told yet.
        for name in SystemCall.names(in: maildir.path + "/cur") { unlink(maildir.path + "/cur/" + name) }
        #expect(t.run("2 FETCH 1 BODY.PEEK[TEXT]").hasSuffix("2 NO [EXPUNGEISSUED] Some messages were expunged by another session.\r\n"))
        #expect(t.run("3 FETCH 1 (FLAGS UID)").hasSuffix("3 OK FETCH completed.\r\n"))  // nothing to read: fine
        #expect(t.run("4 NOOP").hasPrefix("* 1 EXPUNGE\r\n"))
    }

    @Test func onlyContentFetchesSetSeen() throws {
        // RFC 9051 §6.4.5: BODY, BODYSTRUCTURE, the .PEEK forms and BINARY.SIZE leave \Seen alone;
        // BODY[…] and BINARY[…] set it.
        let maildir = try TemporaryMaildir()
        try maildir.deliver(mail("one"))
        var t = MailboxTranscript(maildir)
        _ = t.run("0 ENABLE IMAP4rev2")
        _ = t.run("1 SELECT INBOX")
        for line in ["2 FETCH 1 BODY", "3 FETCH 1 BODYSTRUCTURE", "4 FETCH 1 BODY.PEEK[]", "5 FETCH 1 BINARY.PEEK[1]",
                     "6 FETCH 1 BINARY.SIZE[1]", "7 FETCH 1 (ENVELOPE RFC822.SIZE)"] {
            _ = t.run(line)
            #expect(t.run("8 FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ())\r\n8 OK FETCH completed.\r\n", "\(line)")
        }
        #expect(t.run("9 FETCH 1 BINARY[1]").contains("FLAGS (\\Seen)"))
    }

    @Test func utf8SessionSeesUTF8NamesAndSubscriptions() throws {
        let maildir = try TemporaryMaildir()
        var t = MailboxTranscript(maildir)
        #expect(t.run("1 CREATE INBOX.Caf&AOk-").hasPrefix("1 OK"))
        _ = t.run("2 SUBSCRIBE INBOX.Caf&AOk-")
        #expect(t.run("3 LSUB \"\" \"*\"").contains("\"INBOX.Caf&AOk-\""))
        _ = t.run("4 ENABLE UTF8=ACCEPT")
        #expect(t.run("5 LIST (SUBSCRIBED) \"\" \"*\"").contains("(\\HasNoChildren \\Subscribed) \".\" \"INBOX.Café\""))
        #expect(t.run("6 SELECT \"INBOX.Café\"").contains("OK [READ-WRITE]"))
    }

    @Test func idleTimeoutVariable() {
        #expect(IMAPService.idlePollInterval(nil) == nil)
        #expect(IMAPService.idlePollInterval("abc") == nil)
        #expect(IMAPService.idlePollInterval("60") == .seconds(60))
        #expect(IMAPService.idlePollInterval(" 0 ") == .seconds(1))
        #expect(IMAPService.idlePollInterval("999999") == .seconds(1800))
    }
}

private func maildir_exists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}
