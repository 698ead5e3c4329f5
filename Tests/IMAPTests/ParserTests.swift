import Testing
@testable import IMAP

func parse(_ text: String) -> Result<TaggedCommand, CommandParser.Failure> {
    CommandParser.parse(Array(text.utf8))
}

func command(_ text: String) -> Command? {
    if case .success(let tagged) = parse(text) { return tagged.command }
    return nil
}

func failure(_ text: String) -> CommandParser.Failure? {
    if case .failure(let f) = parse(text) { return f }
    return nil
}

/// The command examples of RFC 3501 §6 and RFC 9051 §6, and the extension RFCs.
@Suite struct ParserTests {
    @Test(arguments: [
        "a001 CAPABILITY", "a002 NOOP", "A023 LOGOUT", "a002 STARTTLS", "A001 AUTHENTICATE GSSAPI",
        "a001 LOGIN SMITH SESAME", #"a001 LOGIN "smith" "se\"same""#, "A142 SELECT INBOX", "A932 EXAMINE blurdybloop",
        "A003 CREATE owatagusiam/", "A004 CREATE owatagusiam/blurdybloop", "A683 DELETE blurdybloop",
        "A683 RENAME blurdybloop sarasota", "A002 SUBSCRIBE #news.comp.mail.mime", "A002 UNSUBSCRIBE #news.comp.mail.mime",
        #"A101 LIST "" """#, #"A102 LIST #news.comp.mail.misc """#, #"A103 LIST /usr/staff/jones """#,
        #"A202 LIST ~/Mail/ %"#, ##"A002 LSUB "#news." "comp.mail.*""##, "A042 STATUS blurdybloop (UIDNEXT MESSAGES)",
        "A342 CHECK", "A341 CLOSE", "A202 EXPUNGE", "A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
        "A283 SEARCH TEXT \"string not in mailbox\"", "A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX",
        "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", "A003 STORE 2:4 +FLAGS (\\Deleted)",
        "A003 COPY 2:4 MEETING", "A999 UID FETCH 4827313:4828442 FLAGS", "a UID STORE 1:* -FLAGS.SILENT \\Seen",
        "a UID COPY 1,3:5 Trash", "a UID MOVE 7 Trash", "a MOVE 1:* INBOX.Archive", "a UID EXPUNGE 3000:3002",
        "a UNSELECT", "a IDLE", "a NAMESPACE", "a ENABLE UTF8=ACCEPT CONDSTORE", #"a ID ("name" "sodr" "version" "19.34")"#,
        "a ID NIL", "a GETQUOTAROOT INBOX", "a GETQUOTA \"\"", "a SETQUOTA \"\" (STORAGE 512)", "a GETACL INBOX",
        "a MYRIGHTS INBOX", "a LISTRIGHTS INBOX smith", "a SETACL INBOX smith +lr", "a DELETEACL INBOX smith",
        "a SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "a UID SORT (ARRIVAL) US-ASCII SINCE 1-Feb-1994",
        "a THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", "a UID THREAD REFERENCES US-ASCII ALL",
        "a SEARCH RETURN (MIN MAX COUNT) UNSEEN", "a SEARCH RETURN () ALL", "a UID SEARCH RETURN (SAVE) FLAGGED",
        "a FETCH $ (FLAGS)", "a SELECT INBOX (CONDSTORE)", "a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211))",
        "a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)", "a STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)",
        "a CREATE INBOX.Sent (USE (\\Sent))", #"a LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN STATUS (MESSAGES))"#,
        #"a LIST "" ("INBOX" "Drafts") RETURN (SPECIAL-USE)"#, "a STATUS INBOX (SIZE DELETED)",
        "a AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=", "a AUTHENTICATE PLAIN =",
        "a FETCH 1 (BINARY.PEEK[1]<0.100> BINARY.SIZE[2])", "a FETCH 1:* ALL", "a FETCH 1 FAST", "a FETCH 1 FULL",
        "a FETCH 1 (BODY[1.2.MIME] BODY.PEEK[3.HEADER.FIELDS.NOT (X-A)] BODY[TEXT]<0.2048> RFC822.HEADER)",
        "a SEARCH OR (SEEN FLAGGED) (NOT DELETED) UID 1:5 LARGER 100 SMALLER 10000 HEADER X-Foo bar",
        "a SEARCH SENTBEFORE \"1-Jan-2000\" SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000 BEFORE 4-Jan-2000 ON 5-Jan-2000",
        "a SEARCH KEYWORD $Junk UNKEYWORD $NotJunk NEW OLD RECENT ANSWERED UNANSWERED DRAFT UNDRAFT",
        "a SEARCH YOUNGER 3600 OLDER 60 MODSEQ 5", "a SEARCH 1:3,5,7:*",
    ])
    func parsesRFCExamples(_ text: String) {
        let result = parse(text)
        if case .failure(let f) = result { Issue.record("\(text): \(f.error.text)") }
    }

    @Test func appendWithFlagsDateAndLiteral() {
        let text = "A003 APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello"
        guard case .append(let name, let messages) = command(text) else { Issue.record("no APPEND"); return }
        #expect(name == MailboxName("saved-messages"))
        #expect(messages.count == 1)
        #expect(messages[0].flags == [.seen])
        #expect(messages[0].bytes == Array("hello".utf8))
        #expect(messages[0].date?.zoneMinutes == -480)
        #expect(messages[0].date?.date == IMAPDate(year: 1994, month: 2, day: 7))
    }

    @Test func multiappendAndBinaryLiteral() {
        let text = "a APPEND INBOX {3+}\r\nabc (\\Draft) ~{3}\r\nx\u{0}y"
        guard case .append(_, let messages) = command(text) else { Issue.record("no APPEND"); return }
        #expect(messages.count == 2)
        #expect(messages[1].binary)
        #expect(messages[1].bytes == [120, 0, 121])
    }

    @Test func nulInTextLiteralIsBad() {
        #expect(failure("a LOGIN {3}\r\nx\u{0}y pw") != nil)
    }

    @Test func fetchSectionIsParsed() {
        guard case .fetch(let set, let attributes, _, let uid) = command("a UID FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS (Subject from)]<10.20>)") else {
            Issue.record("no FETCH"); return
        }
        #expect(uid)
        #expect(set == SequenceSet([1...SequenceSet.star]))
        #expect(attributes.first == .uid)  // UID FETCH always returns UID (RFC 3501 §6.4.8)
        #expect(attributes.last == .bodySection(Section(part: [1, 2], text: .headerFields([Array("SUBJECT".utf8), Array("FROM".utf8)])),
                                                Partial(offset: 10, count: 20), peek: true))
    }

    @Test func searchKeysNest() {
        guard case .search(let search, _) = command("a SEARCH NOT (OR FROM x TO y) 2:4") else { Issue.record("no SEARCH"); return }
        #expect(search.key == .and([.not(.or(.from(Array("x".utf8)), .to(Array("y".utf8)))), .sequence(SequenceSet([2...4]))]))
    }

    @Test func inboxIsCaseInsensitive() {
        #expect(command("a SELECT inbox") == .select(.inbox, SelectParameters()))
        #expect(command("a SELECT InBoX") == .select(.inbox, SelectParameters()))
    }

    @Test func storeForms() {
        #expect(command("a STORE 1 FLAGS.SILENT (\\Seen \\Flagged)") ==
                .store(.single(1), unchangedSince: nil, StoreAction(kind: .replace, silent: true, flags: [.seen, .flagged]), uid: false))
        #expect(command("a STORE 1 -FLAGS \\Seen $Junk") ==
                .store(.single(1), unchangedSince: nil, StoreAction(kind: .remove, silent: false, flags: [.seen, Flag("$Junk")]), uid: false))
    }

    @Test(arguments: [
        "", "a", "a ", "a FROB", "+ NOOP", "a NOOP extra", "a FETCH", "a FETCH 0 FLAGS", "a FETCH 1 (FLAGS", "a FETCH 1 BODY[",
        "a FETCH 1 BODY[MIME]", "a FETCH 1 (BINARY[TEXT])", "a SELECT", "a LOGIN user", #"a LOGIN "unterminated"#,
        "a LOGIN {5}\r\nab pw", "a SEARCH", "a SEARCH FROB", "a SEARCH ON 32-Jan-2000", "a SEARCH ON 1-Foo-2000",
        "a STORE 1 FLAGS", "a STORE 1 LABELS (x)", "a UID FOO 1", "a SORT () UTF-8 ALL", "a SORT (REVERSE) UTF-8 ALL",
        "a FETCH 99999999999 FLAGS", "a ENABLE", "a APPEND INBOX", "a APPEND INBOX (\\Seen)",
        "a LIST (RECURSIVEMATCH) \"\" *", "a UID FETCH 1 FLAGS (VANISHED)", "a FETCH 1 (FLAGS) (VANISHED)",
        "a SEARCH " + String(repeating: "(", count: 100) + "ALL" + String(repeating: ")", count: 100),
        "a SEARCH " + String(repeating: "NOT ", count: 100) + "ALL",
    ])
    func refusesBadSyntax(_ text: String) {
        #expect(failure(text) != nil, "\(text) should not parse")
    }

    @Test func failureKeepsTheTag() {
        #expect(failure("tag7 FROB")?.tag == Array("tag7".utf8))
        #expect(failure("")?.tag == nil)
    }

    @Test func sequenceSetFormatting() {
        #expect(String(decoding: SequenceSet.format([1, 2, 3, 5, 7, 8]), as: UTF8.self) == "1:3,5,7:8")
        #expect(SequenceSet([3...SequenceSet.star]).resolved(largest: 10) == [3...10])
        #expect(SequenceSet([SequenceSet.star...SequenceSet.star]).resolved(largest: 0) == [])
        #expect(SequenceSet([20...SequenceSet.star]).resolved(largest: 10) == [10...20])  // RFC 3501 §6.4.8: 20:* is 10:20
        #expect(SequenceSet([5...7, 1...2, 3...3, 9...SequenceSet.star, 6...8]).merged(largest: 12) == [1...3, 5...12])
        #expect(SequenceSet([1...SequenceSet.star, SequenceSet.star...SequenceSet.star]).merged(largest: UInt32.max) == [1...UInt32.max])
    }
}

@Suite struct AppendPrefixTests {
    @Test func prefixes() {
        #expect(AppendPrefix.parse(Array("a APPEND INBOX ".utf8)) == AppendPrefix(tag: Array("a".utf8), mailbox: .inbox, messageIndex: 0))
        #expect(AppendPrefix.parse(Array("a APPEND INBOX.x (\\Seen) \"01-Jan-2020 00:00:00 +0000\" ".utf8))?.messageIndex == 0)
        #expect(AppendPrefix.parse(Array("a APPEND {5}\r\nINBOX {2+}\r\nab (\\Draft) ".utf8))
                == AppendPrefix(tag: Array("a".utf8), mailbox: .inbox, messageIndex: 1))
        #expect(AppendPrefix.parse(Array("a APPEND".utf8)) == nil)
        #expect(AppendPrefix.parse(Array("a FETCH INBOX ".utf8)) == nil)
        #expect(AppendPrefix.parse(Array("a APPEND INBOX junk ".utf8)) == nil)
    }
}
