import Testing
@testable import SMTP

/// Drives a session with command lines; recipients are accepted unless the test refuses them.
private struct Transcript {
    var session: SMTPSession

    init(_ configuration: SMTPSessionConfiguration = SMTPSessionConfiguration(hostname: "mx.example.test", tlsAvailable: true)) {
        session = SMTPSession(configuration: configuration)
    }

    mutating func send(_ line: String) -> SMTPSession.Action {
        session.receive(line: Array(line.utf8)[...])
    }

    /// Sends a line and returns the reply code it gets (checks accepted for RCPT).
    mutating func code(_ line: String) -> Int? {
        switch send(line) {
        case .send(let reply), .sendAndClose(let reply), .sendAndStartTLS(let reply), .abortSubmission(let reply): return reply.code
        case .checkRecipient(let box, let p):
            if case .send(let reply) = session.recipientChecked(box, p, refusal: nil) { return reply.code }
            return nil
        case .checkSender(let sender, let p):
            if case .send(let reply) = session.senderChecked(sender, p, refusal: nil) { return reply.code }
            return nil
        case .openSubmission:
            if case .send(let reply) = session.submissionOpened() { return reply.code }
            return nil
        default: return nil
        }
    }
}

struct SessionTests {
    @Test func greetingAndEhloAsCourier() {
        var t = Transcript()
        #expect(t.session.greeting().encoded() == Array("220 mx.example.test ESMTP\r\n".utf8))
        guard case .send(let reply) = t.send("EHLO client.example") else { Issue.record("no reply"); return }
        #expect(String(decoding: reply.encoded(), as: UTF8.self) == """
            250-mx.example.test Ok.\r
            250-STARTTLS\r
            250-XVERP=Courier\r
            250-XEXDATA\r
            250-XSECURITY=NONE,STARTTLS\r
            250-PIPELINING\r
            250-8BITMIME\r
            250-SMTPUTF8\r
            250-SIZE\r
            250-DSN\r
            250 ENHANCEDSTATUSCODES\r

            """)
        #expect(t.session.heloName == "client.example")
        // RFC 2034 §3: after EHLO, replies carry their enhanced status code.
        #expect(t.session.writesEnhancedCodes)
        #expect(Replies.spamRefused.encoded(enhanced: true) == Array("550 5.7.1 Spam refused.\r\n".utf8))
        #expect(t.session.isExtended)
    }

    @Test func helo() {
        var t = Transcript()
        #expect(t.send("HELO x") == .send(Replies.helo("mx.example.test")))
    }

    @Test func fullTransaction() {
        var t = Transcript()
        #expect(t.code("EHLO c") == 250)
        #expect(t.code("MAIL FROM:<a@b.example> SIZE=10") == 250)
        #expect(t.code("RCPT TO:<demo@example.test>") == 250)
        guard case .openSubmission(let transaction) = t.send("DATA") else { Issue.record("no open"); return }
        #expect(transaction.recipients.count == 1)
        #expect(t.session.submissionOpened() == .send(Replies.startData))
        #expect(t.session.isReceivingData)
        #expect(t.session.dataEnded(.init(size: 5, sizeExceeded: false, lineTooLong: false)) == .commitSubmission)
        #expect(t.session.committed(id: "X1") == .send(Replies.accepted("X1")))
        #expect(t.session.currentTransaction == nil)
        #expect(t.code("QUIT") == 221)
    }

    @Test(arguments: [
        (["MAIL FROM:<a@b.c>"], 502),                       // HELO first
        (["EHLO c", "RCPT TO:<a@b.c>"], 502),               // RCPT before MAIL
        (["EHLO c", "DATA"], 502),                          // DATA before MAIL
        (["EHLO c", "MAIL FROM:<a@b.c>", "DATA"], 502),     // DATA with no recipient
        (["EHLO c", "MAIL FROM:<a@b.c>", "MAIL FROM:<a@b.c>"], 502),
        (["EHLO c", "MAIL FROM:<a@localhost>"], 517),       // Courier: dotted domain
        (["EHLO c", "MAIL FROM:<a@b.c>", "RCPT TO:<postmaster@localhost>"], 513),
        (["EHLO c", "MAIL FROM:<a@b.c> SIZE=99999999999"], 534),
        (["EHLO c", "MAIL FROM:<jö@b.c>"], 553),            // UTF-8 without SMTPUTF8
        (["EHLO c", "MAIL FROM:<jö@b.c> SMTPUTF8"], 250),
        (["EHLO c", "BDAT 10 LAST"], 502),
        (["garbage"], 502),
        (["EHLO c", "VRFY demo"], 252),
        (["EHLO c", "AUTH PLAIN"], 535),                    // no mechanisms configured
        (["EHLO c", "MAIL FROM:<a@b.c>", "STARTTLS"], 540), // not after MAIL
        (["EHLO c", "RSET", "STARTTLS"], 540),
        (["EHLO c", "STARTTLS"], 220),
    ])
    func sequencing(lines: [String], lastCode: Int) {
        var t = Transcript()
        var code: Int?
        for line in lines { code = t.code(line) }
        #expect(code == lastCode)
    }

    @Test func recipientRefusalKeepsTransaction() {
        var t = Transcript()
        _ = t.code("EHLO c")
        _ = t.code("MAIL FROM:<a@b.c>")
        guard case .checkRecipient(let box, let p) = t.send("RCPT TO:<x@remote.example>") else { Issue.record("no check"); return }
        #expect(t.session.recipientChecked(box, p, refusal: Replies.relayingDenied) == .send(Replies.relayingDenied))
        #expect(t.code("RCPT TO:<demo@example.test>") == 250)
        #expect(t.session.currentTransaction?.recipients.count == 1)
    }

    @Test func recipientLimit() {
        var limits = SMTPLimits()
        limits.recipients = 2
        var t = Transcript(SMTPSessionConfiguration(hostname: "h.example", limits: limits))
        _ = t.code("EHLO c")
        _ = t.code("MAIL FROM:<a@b.c>")
        #expect(t.code("RCPT TO:<a@b.c>") == 250)
        #expect(t.code("RCPT TO:<b@b.c>") == 250)
        #expect(t.code("RCPT TO:<c@b.c>") == 431)
    }

    @Test func oversizedDataIsAborted() {
        var t = Transcript()
        _ = t.code("EHLO c")
        _ = t.code("MAIL FROM:<a@b.c>")
        _ = t.code("RCPT TO:<a@b.c>")
        _ = t.code("DATA")
        guard case .abortSubmission(let reply) = t.session.dataEnded(.init(size: 99, sizeExceeded: true, lineTooLong: false)) else {
            Issue.record("not aborted"); return
        }
        #expect(reply.code == 523)
        #expect(t.code("MAIL FROM:<a@b.c>") == 250)
    }

    @Test func startTLSResetsSession() {
        var t = Transcript()
        _ = t.code("EHLO c")
        #expect(t.send("STARTTLS") == .sendAndStartTLS(Replies.startTLS))
        t.session.tlsStarted()
        #expect(t.session.heloName == nil)
        #expect(t.code("MAIL FROM:<a@b.c>") == 502)
        guard case .send(let reply) = t.send("EHLO c") else { return }
        #expect(!reply.lines.contains("STARTTLS"))
        #expect(t.code("STARTTLS") == 540)
    }

    @Test func tlsRequired() {
        var t = Transcript(SMTPSessionConfiguration(hostname: "h.example", tlsAvailable: true, tlsRequired: true))
        _ = t.code("EHLO c")
        #expect(t.code("MAIL FROM:<a@b.c>") == 400)
    }

    @Test func authHookAndAuthRequired() {
        var t = Transcript(SMTPSessionConfiguration(hostname: "h.example", authMechanisms: ["PLAIN", "LOGIN"], authRequired: true))
        guard case .send(let ehlo) = t.send("EHLO c") else { return }
        #expect(ehlo.lines.contains("AUTH PLAIN LOGIN"))
        #expect(t.code("MAIL FROM:<a@b.c>") == 535)
        #expect(t.send("AUTH CRAM-MD5") == .send(Replies.authRejected))
        #expect(t.send("AUTH PLAIN x") == .authenticate(mechanism: "PLAIN", initialResponse: "x"))
        #expect(t.session.authenticated(as: "demo")  == .send(SMTPReply(235, EnhancedStatusCode(2, 7, 0), "Ok")))
        #expect(t.code("MAIL FROM:<a@b.c>") == 250)
    }

    @Test func heloNameIsCleanedAndKept() {
        var t = Transcript()
        _ = t.session.receive(.helo("a\u{7F}b c"))
        _ = t.code("EHLO other")
        #expect(t.session.heloName == "a_b_c")
        #expect(t.session.isExtended)
    }

    @Test func tarpitDoubles() {
        var tarpit = Tarpit(enabled: true)
        #expect(tarpit.delay(after: Replies.ok) == 0)
        #expect((0..<6).map { _ in tarpit.delay(after: Replies.commandError) } == [8, 16, 32, 64, 128, 128])
        tarpit.reset()
        #expect(tarpit.delay(after: Replies.commandError) == 8)
        var off = Tarpit(enabled: false)
        #expect(off.delay(after: Replies.commandError) == 0)
    }

    @Test func replyEncoding() {
        #expect(Replies.ok.encoded(enhanced: true) == Array("250 2.0.0 Ok\r\n".utf8))
        #expect(SMTPReply(550, nil, ["a", "b\r\nc"]).encoded() == Array("550-a\r\n550 bc\r\n".utf8))
    }

    @Test func senderCheckWhenAsked() {
        var configuration = SMTPSessionConfiguration(hostname: "mx.example.test")
        configuration.checksSender = true
        configuration.limits.recipients = 1
        configuration.limits.recipientsHard = true
        var t = Transcript(configuration)
        #expect(t.code("EHLO c") == 250)
        guard case .checkSender(let sender, let p) = t.send("MAIL FROM:<bad@junk.test>") else { Issue.record("no check"); return }
        #expect(t.session.senderChecked(sender, p, refusal: Replies.senderRejected("bad@junk.test")) ==
            .send(SMTPReply(517, EnhancedStatusCode(5, 7, 1), "Sender rejected: bad@junk.test")))
        // Refused: no transaction, RCPT is out of sequence, a new MAIL is allowed.
        #expect(t.code("RCPT TO:<a@b.example>") == 502)
        #expect(t.code("MAIL FROM:<good@b.example>") == 250)
        #expect(t.code("RCPT TO:<a@b.example>") == 250)
        #expect(t.code("RCPT TO:<c@b.example>") == 531)
    }
}
