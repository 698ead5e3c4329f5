import Testing
@testable import SMTPClient

/// A session kept open between messages (spec/mta.md §5.3.2): RSET checks it before the next
/// transaction; anything but 250 makes it unusable.
@Suite struct SessionReuseTests {
    static let one = ClientTransaction(sender: "s@here.example", recipients: [.init(address: "a@there.example")],
                                       body: Array("x\n".utf8))

    @Test func resetThenNextTransaction() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "PIPELINING")
        s.begin(Self.one)
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(250, "2.0.0 first")
        #expect(s.results?.map(\.status) == [.delivered])
        #expect(s.session.isIdle)
        s.take(s.session.reset())
        #expect(s.lastSent == "RSET\r\n")
        #expect(!s.session.isIdle)
        // Not idle while the check is out: no second RSET, no transaction.
        #expect(s.session.reset().isEmpty)
        #expect(s.session.begin(Self.one).isEmpty)
        s.reply(250, "2.0.0 reset")
        #expect(s.events.last == .ready)
        s.begin(Self.one)
        #expect(s.lastSent == "MAIL FROM:<s@here.example>\r\nRCPT TO:<a@there.example>\r\nDATA\r\n")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(250, "2.0.0 second")
        #expect(s.results?.first?.reply.text == "250 2.0.0 second")
    }

    @Test func refusedResetEndsTheSession() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx")
        s.take(s.session.reset())
        s.reply(421, "4.4.2 idle too long")
        #expect(s.events.last == .failed(SessionFailure(permanent: false, reply: ClientReply(421, "4.4.2 idle too long"),
                                                         command: "RSET")))
        #expect(!s.session.isIdle)
        #expect(s.session.reset().isEmpty)
    }

    @Test func resetOnlyWhenIdle() {
        var s = Script()
        #expect(s.session.reset().isEmpty) // still waiting for the greeting
        s.reply(220, "mx")
        #expect(s.session.reset().isEmpty) // EHLO outstanding
    }
}
