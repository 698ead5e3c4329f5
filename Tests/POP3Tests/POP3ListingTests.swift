import Testing
@testable import POP3

private func line(_ s: String) -> ArraySlice<UInt8> { Array(s.utf8)[...] }

private func sent(_ actions: [POP3Action]) -> String {
    actions.map { action -> String in
        if case .send(let bytes) = action { return String(decoding: bytes, as: UTF8.self) }
        return ""
    }.joined()
}

private func session(_ listing: POP3Listing) -> POP3Session {
    var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
    _ = session.receive(line: line("USER alice"))
    _ = session.receive(line: line("PASS secret"))
    _ = session.loggedIn(user: "alice", listing: listing)
    return session
}

/// LIST and UIDL written as bytes (POP3ListingWriter) and the whole-maildrop answers shared
/// through one POP3Listing: byte for byte what the one-line-at-a-time text form gives.
@Suite struct POP3ListingTests {
    static let messages = [
        POP3Message(path: "cur/1.a:2,S", size: 0, uidl: "UID1-1795709431"),
        POP3Message(path: "cur/2.b:2,", size: 9, uidl: "UID2-1795709431"),
        POP3Message(path: "cur/3.c:2,S", size: 10, uidl: "1700000000.M1P2.legacy"),
        POP3Message(path: "cur/4.d:2,S", size: 1_234_567_890_123, uidl: "UID10-0"),
    ]

    /// The reference form: the header, then `n value` per live message, then `.`.
    static func reference(_ header: String, _ values: [(Int, String)]) -> String {
        header + "\r\n" + values.map { "\($0.0) \($0.1)\r\n" }.joined() + ".\r\n"
    }

    @Test func decimalsMatchSwiftsDescription() {
        for value: UInt64 in [0, 1, 9, 10, 11, 99, 100, 4_294_967_296, UInt64.max] {
            var out: [UInt8] = [UInt8(ascii: "x")]
            POP3ListingWriter.appendDecimal(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "x\(value)")
        }
    }

    @Test func wholeMaildropAnswersMatchTheTextForm() {
        let listing = POP3Listing(messages: Self.messages)
        let indexed = Self.messages.enumerated().map { ($0.offset + 1, $0.element) }
        #expect(String(decoding: listing.listReply, as: UTF8.self) ==
                Self.reference(POP3Replies.listFollows, indexed.map { ($0.0, "\($0.1.size)") }))
        #expect(String(decoding: listing.uidlReply, as: UTF8.self) ==
                Self.reference("+OK", indexed.map { ($0.0, $0.1.uidl) }))
        // Built once: the second call gives the same bytes.
        #expect(listing.listReply == listing.listReply)
        #expect(String(decoding: POP3Listing(messages: []).uidlReply, as: UTF8.self) == "+OK\r\n.\r\n")
    }

    @Test func deletionsLeaveGapsAndRsetRestoresTheSharedAnswer() {
        let listing = POP3Listing(messages: Self.messages)
        var first = session(listing)
        var second = session(listing)
        #expect(sent(first.receive(line: line("DELE 2"))) == "+OK Deleted.\r\n")
        #expect(sent(first.receive(line: line("LIST"))) ==
                Self.reference(POP3Replies.listFollows, [(1, "0"), (3, "10"), (4, "1234567890123")]))
        #expect(sent(first.receive(line: line("UIDL"))) ==
                Self.reference("+OK", [(1, "UID1-1795709431"), (3, "1700000000.M1P2.legacy"), (4, "UID10-0")]))
        // Another session on the same listing is not affected.
        #expect(sent(second.receive(line: line("UIDL"))) == String(decoding: listing.uidlReply, as: UTF8.self))
        #expect(sent(second.receive(line: line("LIST 2"))) == "+OK 2 9\r\n")
        #expect(sent(first.receive(line: line("LIST 2"))) == "-ERR Invalid message number.\r\n")
        _ = first.receive(line: line("RSET"))
        #expect(sent(first.receive(line: line("LIST"))) == String(decoding: listing.listReply, as: UTF8.self))
    }

    @Test func seenFlagIsNeededOnlyForFlaggedNamesWithoutS() {
        #expect(POP3Mailbox.needsSeenFlag("cur/1.a:2,"))
        #expect(POP3Mailbox.needsSeenFlag("cur/1.a:2,FR"))
        #expect(!POP3Mailbox.needsSeenFlag("cur/1.a:2,S"))
        #expect(!POP3Mailbox.needsSeenFlag("cur/1.a:2,FRST"))
        #expect(!POP3Mailbox.needsSeenFlag("cur/1.a"))
        #expect(!POP3Mailbox.needsSeenFlag(""))
    }
}
