import Testing
@testable import SMTPClient

/// Drives a session with scripted replies, collecting what it sends.
struct Script {
    var session: ClientSession
    var sent: [String] = []
    var events: [ClientEvent] = []

    init(_ settings: ClientSettings = ClientSettings(heloName: "me.example")) {
        session = ClientSession(settings: settings)
    }

    mutating func reply(_ code: Int, _ lines: String...) {
        take(session.receive(ClientReply(code: code, lines: lines.map { Array($0.utf8) })))
    }

    mutating func begin(_ tx: ClientTransaction) { take(session.begin(tx)) }

    mutating func take(_ new: [ClientEvent]) {
        for event in new {
            if case let .send(bytes) = event { sent.append(String(decoding: bytes, as: UTF8.self)) }
        }
        events += new
    }

    var results: [RecipientResult]? {
        for event in events.reversed() { if case let .finished(list) = event { return list } }
        return nil
    }

    var lastSent: String { sent.last ?? "" }
}

let threeRecipients = ClientTransaction(sender: "s@here.example", recipients: [
    .init(address: "ok@there.example"), .init(address: "later@there.example"), .init(address: "gone@there.example"),
], body: Array("Subject: hi\n\nhello\n".utf8))

@Suite struct ClientSessionTests {
    @Test func lockStepTransactionWithPerRecipientResults() {
        var s = Script()
        s.reply(220, "mx ESMTP")
        #expect(s.lastSent == "EHLO me.example\r\n")
        s.reply(250, "mx", "SIZE", "8BITMIME")
        #expect(s.events.last == .ready)
        s.begin(threeRecipients)
        #expect(s.lastSent == "MAIL FROM:<s@here.example> BODY=7BIT SIZE=256\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "RCPT TO:<ok@there.example>\r\n")
        s.reply(250, "ok")
        s.reply(451, "4.2.0 try later")
        s.reply(550, "5.1.1 no such user")
        #expect(s.lastSent == "DATA\r\n")
        s.reply(354, "go")
        #expect(s.lastSent == "Subject: hi\r\n\r\nhello\r\n.\r\n")
        s.reply(250, "2.0.0 queued")
        let results = s.results ?? []
        #expect(results.map(\.status) == [.delivered, .deferred, .failed])
        #expect(results[2].reply.text == "550 5.1.1 no such user")
        #expect(results[2].command == "RCPT TO:<gone@there.example>")
        #expect(s.events.last == .ready)
        #expect(s.session.isIdle)
        s.take(s.session.quit())
        #expect(s.lastSent == "QUIT\r\n")
        s.reply(221, "bye")
        #expect(s.events.last == .closed)
    }

    /// A success at a server that announced DSN took NOTIFY along (spec/mta.md §4.8).
    @Test func successMarksWhetherTheServerTookNotify() {
        for announcesDSN in [false, true] {
            var s = Script()
            s.reply(220, "mx")
            if announcesDSN { s.reply(250, "mx", "DSN") } else { s.reply(250, "mx") }
            s.begin(ClientTransaction(sender: "s@here.example", recipients: [.init(address: "ok@there.example", notify: ["SUCCESS"])],
                                      body: Array("Subject: hi\n\nhello\n".utf8)))
            s.reply(250, "ok")
            #expect(s.lastSent == (announcesDSN ? "RCPT TO:<ok@there.example> NOTIFY=SUCCESS\r\n" : "RCPT TO:<ok@there.example>\r\n"))
            s.reply(250, "ok")
            s.reply(354, "go")
            s.reply(250, "2.0.0 queued")
            #expect(s.results?.map(\.dsnPassedOn) == [announcesDSN])
        }
    }

    /// Courier's esmtp client: a server without DSN gets the NOTIFY=NEVER recipients in a
    /// transaction of their own from the null sender, after the others; results keep their order.
    @Test func notifyNeverRecipientsGoFromTheNullSenderToAServerWithoutDSN() {
        let tx = ClientTransaction(sender: "s@here.example", recipients: [
            .init(address: "quiet@there.example", notify: ["NEVER"]), .init(address: "gone@there.example"),
        ], body: Array("Subject: hi\n\nhello\n".utf8))
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx")
        s.begin(tx)
        #expect(s.lastSent == "MAIL FROM:<s@here.example>\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "RCPT TO:<gone@there.example>\r\n")
        s.reply(550, "5.1.1 no such user")
        // Nobody accepted: no DATA; the next part starts after RSET.
        if s.lastSent == "RSET\r\n" { s.reply(250, "ok") }
        #expect(s.lastSent == "MAIL FROM:<>\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "RCPT TO:<quiet@there.example>\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "DATA\r\n")
        s.reply(354, "go")
        s.reply(250, "2.0.0 queued")
        #expect(s.results?.map(\.status) == [.delivered, .failed])

        // With DSN at the server: one transaction, NOTIFY=NEVER sent along.
        var d = Script()
        d.reply(220, "mx")
        d.reply(250, "mx", "DSN")
        d.begin(tx)
        #expect(d.lastSent == "MAIL FROM:<s@here.example>\r\n")
        d.reply(250, "ok")
        #expect(d.lastSent == "RCPT TO:<quiet@there.example> NOTIFY=NEVER\r\n")
    }

    /// The NOTIFY=NEVER split: the first transaction delivered, the connection lost during the
    /// second. The delivered recipient stays delivered (not sent again), the other waits, and
    /// the results come back in the whole transaction's order.
    @Test func notifyNeverSplitKeepsEachPartsOutcomeWhenTheSecondIsCut() {
        let tx = ClientTransaction(sender: "s@here.example", recipients: [
            .init(address: "quiet@there.example", notify: ["NEVER"]), .init(address: "loud@there.example"),
            .init(address: "quiet2@there.example", notify: ["never"]),
        ], body: Array("Subject: hi\n\nhello\n".utf8))
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx")
        s.begin(tx)
        #expect(s.lastSent == "MAIL FROM:<s@here.example>\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "RCPT TO:<loud@there.example>\r\n")
        s.reply(250, "ok")
        s.reply(354, "go")
        s.reply(250, "2.0.0 queued")
        #expect(s.results == nil)
        #expect(s.lastSent == "MAIL FROM:<>\r\n")
        s.reply(250, "ok")
        #expect(s.lastSent == "RCPT TO:<quiet@there.example>\r\n")
        let results = s.session.connectionLost("Connection closed by remote host.")
        #expect(results.map(\.status) == [.deferred, .delivered, .deferred])
        #expect(results[1].reply.text == "250 2.0.0 queued")
    }

    @Test func pipelinedBatchAndReuseAfterRset() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "PIPELINING", "DSN")
        s.begin(threeRecipients)
        #expect(s.sent.count == 2)
        #expect(s.lastSent == "MAIL FROM:<s@here.example>\r\nRCPT TO:<ok@there.example>\r\nRCPT TO:<later@there.example>\r\n"
                + "RCPT TO:<gone@there.example>\r\nDATA\r\n")
        s.reply(250, "ok")
        s.reply(550, "no")
        s.reply(550, "no")
        s.reply(550, "no")
        s.reply(554, "no valid recipients")
        #expect(s.results?.map(\.status) == [.failed, .failed, .failed])
        #expect(s.lastSent == "RSET\r\n")
        #expect(!s.session.isIdle)
        s.reply(250, "reset")
        #expect(s.events.last == .ready)
        let one = ClientTransaction(sender: "", recipients: [.init(address: "ok@there.example", notify: ["NEVER"])],
                                    body: Array("x\n".utf8))
        s.begin(one)
        #expect(s.lastSent == "MAIL FROM:<>\r\nRCPT TO:<ok@there.example> NOTIFY=NEVER\r\nDATA\r\n")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        #expect(s.lastSent == "x\r\n.\r\n")
        s.reply(452, "4.3.1 disk full")
        #expect(s.results?.map(\.status) == [.deferred])
        #expect(s.results?.first?.command == "DATA")
    }

    @Test func mailFromRejectedLockStep() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx")
        s.begin(threeRecipients)
        s.reply(553, "sender refused")
        #expect(s.results?.map(\.status) == [.failed, .failed, .failed])
        #expect(s.lastSent == "RSET\r\n")
    }

    @Test func noAcceptedRecipientMeansNoData() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx")
        s.begin(ClientTransaction(sender: "a@b", recipients: [.init(address: "x@y")], body: []))
        s.reply(250, "ok")
        s.reply(450, "busy")
        #expect(!s.sent.contains("DATA\r\n"))
        #expect(s.results?.map(\.status) == [.deferred])
    }

    @Test func heloFallbackAndGreetingFailures() {
        var s = Script()
        s.reply(220, "old")
        s.reply(502, "what")
        #expect(s.lastSent == "HELO me.example\r\n")
        s.reply(250, "old")
        #expect(s.events.last == .ready)
        #expect(!s.session.extended)

        var refused = Script()
        refused.reply(554, "go away")
        #expect(refused.events.last == .failed(SessionFailure(permanent: true, reply: ClientReply(554, "go away"),
                                                               command: "(greeting)")))
        var busy = Script()
        busy.reply(421, "busy")
        if case let .failed(failure) = busy.events.last { #expect(!failure.permanent) } else { Issue.record("no failure") }
        #expect(busy.session.receive(ClientReply(250, "late")).isEmpty)
    }

    @Test func startTLSThenEHLOAgainThenAuthPlain() {
        var s = Script(ClientSettings(heloName: "me", tls: .opportunistic, credentials: (user: "u", password: "p")))
        s.reply(220, "mx")
        s.reply(250, "mx", "STARTTLS", "AUTH LOGIN")
        #expect(s.lastSent == "STARTTLS\r\n")
        s.reply(220, "go ahead")
        #expect(s.events.last == .startTLS)
        s.take(s.session.tlsEstablished())
        #expect(s.lastSent == "EHLO me\r\n")
        s.reply(250, "mx", "AUTH PLAIN LOGIN")
        #expect(s.lastSent == "AUTH PLAIN AHUAcA==\r\n")
        s.reply(235, "ok")
        #expect(s.session.authenticated && s.session.tlsActive)
        #expect(s.events.last == .ready)
    }

    @Test func authLoginAndFailure() {
        var s = Script(ClientSettings(heloName: "me", tls: .none, credentials: (user: "u", password: "p")))
        s.reply(220, "mx")
        s.reply(250, "mx", "STARTTLS", "AUTH=LOGIN")
        #expect(s.lastSent == "AUTH LOGIN\r\n")
        s.reply(334, "VXNlcm5hbWU6")
        #expect(s.lastSent == "dQ==\r\n")
        s.reply(334, "UGFzc3dvcmQ6")
        #expect(s.lastSent == "cA==\r\n")
        s.reply(535, "bad")
        if case let .failed(failure) = s.events.last { #expect(failure.permanent) } else { Issue.record("no failure") }
    }

    @Test func requiredTLSMissingIsPermanent() {
        var s = Script(ClientSettings(heloName: "me", tls: .required))
        s.reply(220, "mx")
        s.reply(250, "mx")
        if case let .failed(failure) = s.events.last { #expect(failure.permanent) } else { Issue.record("no failure") }
        var refused = Script(ClientSettings(heloName: "me", tls: .required))
        refused.reply(220, "mx")
        refused.reply(250, "mx", "STARTTLS")
        refused.reply(454, "no tls now")
        if case let .failed(failure) = refused.events.last { #expect(!failure.permanent) } else { Issue.record("no failure") }
    }

    @Test func eightBitDowngradedForOldServerAndUTF8Refused() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx", "SIZE")
        let tx = ClientTransaction(sender: "a@b", recipients: [.init(address: "x@y")],
                                   body: Array("Subject: t\n\n\u{e9}t\u{e9}\n".utf8), eightBit: true)
        s.begin(tx)
        #expect(s.lastSent == "MAIL FROM:<a@b> SIZE=300\r\n")
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(354, "go")
        #expect(s.lastSent.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\n=C3=A9t=C3=A9\r\n.\r\n"))
        s.reply(250, "ok")
        var utf = tx
        utf.smtpUTF8 = true
        s.begin(utf)
        #expect(s.results?.first?.status == .failed)
        #expect(s.results?.first?.reply.code == 553)
        #expect(s.events.last == .ready)
    }

    @Test func connectionLostDefersUndecided() {
        var s = Script()
        s.reply(220, "mx")
        s.reply(250, "mx")
        s.begin(threeRecipients)
        s.reply(250, "ok")
        s.reply(250, "ok")
        s.reply(550, "no")
        let results = s.session.connectionLost("Connection closed by remote host.")
        #expect(results.map(\.status) == [.deferred, .failed, .deferred])
        #expect(results[0].reply.text == "451 Connection closed by remote host.")
    }
}

@Suite struct ClientCramTests {
    /// RFC 2195 §2's example: tim / tanstaaftanstaaf.
    @Test func cramMD5IsPreferred() {
        var s = Script(ClientSettings(heloName: "me", tls: .none, credentials: (user: "tim", password: "tanstaaftanstaaf")))
        s.reply(220, "mx")
        s.reply(250, "mx", "AUTH PLAIN LOGIN CRAM-MD5")
        #expect(s.lastSent == "AUTH CRAM-MD5\r\n")
        s.reply(334, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
        #expect(s.lastSent == "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n")
        s.reply(235, "ok")
        #expect(s.session.authenticated)
    }
}
