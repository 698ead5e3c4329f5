import Testing
@testable import IMAP

/// IMAP4rev2 and the capabilities added with it, at the session and framer level.
@Suite struct Rev2SessionTests {
    private func loggedIn(_ configuration: IMAPSessionConfiguration = IMAPSessionConfiguration()) -> Transcript {
        var t = Transcript(configuration)
        _ = t.send("a LOGIN u p")
        _ = t.session.loginFinished(tag: Array("a".utf8), user: "u")
        return t
    }

    @Test func capabilitiesNameRev2AndTheNewExtensions() {
        let t = Transcript()
        let words = t.session.capabilities
        #expect(Array(words.prefix(2)) == ["IMAP4rev1", "IMAP4rev2"])
        for word in ["BINARY", "CREATE-SPECIAL-USE", "SEARCHRES", "UTF8=ACCEPT", "ENABLE", "LITERAL+"] {
            #expect(words.contains(word), "\(word)")
        }
        // RFC 7889: the limit is the APPEND literal limit.
        #expect(words.contains("APPENDLIMIT=\(IMAPLimits().appendLiteral)"))
        #expect(!words.contains("APPENDLIMIT"))
    }

    @Test func enableIMAP4rev2ReportsItOnceAndTurnsOnUTF8() {
        var t = loggedIn()
        #expect(!t.session.isRev2 && !t.session.utf8Enabled)
        #expect(t.reply("b ENABLE imap4rev2 X-UNKNOWN") == "* ENABLED IMAP4rev2\r\nb OK Options enabled\r\n")
        #expect(t.session.isRev2 && t.session.utf8Enabled)
        // RFC 5161 §3.1: only what this command newly enabled is listed.
        #expect(t.reply("c ENABLE IMAP4rev2 UTF8=ACCEPT") == "* ENABLED UTF8=ACCEPT\r\nc OK Options enabled\r\n")
    }

    @Test func enableNeedsALogin() {
        var t = Transcript()
        #expect(t.reply("a ENABLE IMAP4rev2") == "a BAD ENABLE needs a login first\r\n")
        #expect(!t.session.isRev2)
    }

    @Test func rev2CommandsParse() {
        // Every command of RFC 9051 §6 that is new or changed in rev2 reaches the store.
        var t = loggedIn()
        for line in ["b NAMESPACE", "c LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*\" RETURN (CHILDREN STATUS (SIZE DELETED))",
                     "d STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE APPENDLIMIT)",
                     "e CREATE INBOX.Sent (USE (\\Sent))", "f APPEND INBOX ~{3}\r\nabc", "g IDLE"] {
            switch t.send(line) {
            case .send(let bytes): #expect(String(decoding: bytes, as: UTF8.self).contains("NAMESPACE"), "\(line)")
            case .mailbox: break
            default: Issue.record("unexpected action for \(line)")
            }
        }
    }

    @Test func literalMinusLimitsNonSynchronizingLiterals() {
        var limits = IMAPLimits()
        limits.literalPlus = false
        var framer = CommandFramer(limits: limits)
        var small = Array("a LOGIN {4+}\r\nuser {4+}\r\npass\r\n".utf8)[...]
        #expect(framer.next(from: &small) == .command(Array("a LOGIN {4+}\r\nuser {4+}\r\npass".utf8)))
        var large = Array("b APPEND INBOX {5000+}\r\n".utf8)[...]
        guard case .fatal = framer.next(from: &large) else {
            Issue.record("a 5000-byte non-synchronising literal passed under LITERAL-")
            return
        }
        // Synchronising literals of that size are still fine.
        var framer2 = CommandFramer(limits: limits)
        var sync = Array("c APPEND INBOX {5000}\r\n".utf8)[...]
        #expect(framer2.next(from: &sync) == .continuationNeeded)
        // LITERAL+ (the default) takes the same non-synchronising literal.
        var framer3 = CommandFramer()
        var plus = Array("d APPEND INBOX {5000+}\r\n".utf8)[...]
        #expect(framer3.next(from: &plus) == nil)
    }

    @Test func utf8AppendDataItemParses() {
        // RFC 6855 §4: APPEND mailbox [flags] [date] UTF8 (literal8)
        let message = Array("Subject: Grüße\r\n\r\nx\r\n".utf8)
        let line = Array("a APPEND INBOX (\\Seen) UTF8 (~{\(message.count)}\r\n".utf8) + message + Array(") {1}\r\nz".utf8)
        guard case .success(let tagged) = CommandParser.parse(line), case .append(_, let messages) = tagged.command else {
            Issue.record("UTF8 APPEND did not parse")
            return
        }
        #expect(messages.count == 2 && messages[0].bytes == message && !messages[0].binary && messages[0].flags == [.seen])
        #expect(messages[1].bytes == Array("z".utf8))
        // The prefix of a streamed UTF8 message names the message it starts.
        #expect(AppendPrefix.parse(Array("b APPEND INBOX UTF8 (".utf8))?.messageIndex == 0)
        #expect(AppendPrefix.parse(Array("b APPEND INBOX UTF8 (~{1}\r\nq) (\\Seen) UTF8 (".utf8))?.messageIndex == 1)
        if case .success = CommandParser.parse(Array("c APPEND INBOX UTF8 ({1}\r\nq".utf8)) {
            Issue.record("a UTF8 item without its closing parenthesis parsed")
        }
    }

    @Test func unknownCTECodeIsWritten() {
        var w = ResponseWriter()
        w.tagged(Array("a".utf8), .no, .unknownCTE, "no")
        #expect(String(decoding: w.bytes, as: UTF8.self) == "a NO [UNKNOWN-CTE] no\r\n")
    }
}
