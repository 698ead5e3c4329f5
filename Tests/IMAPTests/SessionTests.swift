import Testing
@testable import IMAP

/// Drives an ``IMAPSession`` with command lines and checks what it answers.
struct Transcript {
    var session: IMAPSession

    init(_ configuration: IMAPSessionConfiguration = IMAPSessionConfiguration(tlsAvailable: true)) {
        session = IMAPSession(configuration: configuration)
    }

    mutating func send(_ line: String) -> IMAPSession.Action {
        session.receive(command: Array(line.utf8))
    }

    mutating func reply(_ line: String) -> String {
        switch send(line) {
        case .send(let bytes), .sendAndClose(let bytes), .sendAndStartTLS(let bytes): String(decoding: bytes, as: UTF8.self)
        default: "(action)"
        }
    }
}

@Suite struct SessionTests {
    @Test func greetingListsCapabilities() {
        let t = Transcript()
        let greeting = String(decoding: t.session.greeting(), as: UTF8.self)
        #expect(greeting.hasPrefix("* OK [CAPABILITY IMAP4rev1 "))
        #expect(greeting.contains(" STARTTLS "))
        #expect(greeting.contains(" AUTH=PLAIN "))
        #expect(greeting.hasSuffix("] Courier-IMAP ready.\r\n"))
    }

    @Test func commandsNeedTheRightState() {
        var t = Transcript()
        #expect(t.reply("a SELECT INBOX") == "a BAD SELECT needs a login first\r\n")
        #expect(t.reply("a FETCH 1 FLAGS") == "a BAD FETCH needs a login first\r\n")
        #expect(t.send("a LOGIN u p") == .login(tag: Array("a".utf8), user: Array("u".utf8), password: Array("p".utf8), early: []))
        let ok = String(decoding: t.session.loginFinished(tag: Array("a".utf8), user: "u"), as: UTF8.self)
        #expect(ok.hasPrefix("a OK [CAPABILITY IMAP4rev1 ") && ok.hasSuffix("] LOGIN Ok.\r\n"))
        #expect(!ok.contains("STARTTLS") && !ok.contains("AUTH="))
        #expect(t.reply("b LOGIN u p") == "b BAD Already logged in\r\n")
        #expect(t.reply("c FETCH 1 FLAGS") == "c BAD FETCH needs a selected mailbox\r\n")
        if case .mailbox(let tagged, _) = t.send("d SELECT INBOX") {
            #expect(tagged.command == .select(.inbox, SelectParameters()))
        } else {
            Issue.record("SELECT goes to the store")
        }
        t.session.selected(.inbox, readOnly: false)
        if case .mailbox = t.send("e FETCH 1 FLAGS") {} else { Issue.record("FETCH goes to the store") }
    }

    @Test func failedLoginKeepsState() {
        var t = Transcript()
        _ = t.send("a LOGIN u p")
        #expect(String(decoding: t.session.loginFinished(tag: Array("a".utf8), user: nil), as: UTF8.self)
                == "a NO [AUTHENTICATIONFAILED] Login failed.\r\n")
        #expect(t.session.state == .notAuthenticated)
    }

    @Test func tlsRequiredDisablesLogin() {
        var configuration = IMAPSessionConfiguration(tlsAvailable: true, tlsRequired: true)
        configuration.plaintextAllowedWithoutTLS = true
        var t = Transcript(configuration)
        let caps = t.reply("a CAPABILITY")
        #expect(caps.contains(" STARTTLS LOGINDISABLED "))
        #expect(!caps.contains("AUTH="))
        #expect(t.reply("b LOGIN u p") == "b NO [PRIVACYREQUIRED] STARTTLS required\r\n")
        #expect(t.reply("c STARTTLS") == "c OK Begin SSL/TLS negotiation now.\r\n")
        t.session.tlsStarted()
        #expect(!t.reply("d CAPABILITY").contains("LOGINDISABLED"))
        if case .login = t.send("e LOGIN u p") {} else { Issue.record("LOGIN allowed after STARTTLS") }
    }

    @Test func plaintextOffLoopbackWithoutTLS() {
        var t = Transcript(IMAPSessionConfiguration(tlsAvailable: true, plaintextAllowedWithoutTLS: false))
        #expect(t.reply("a CAPABILITY").contains("LOGINDISABLED"))
        #expect(t.reply("b LOGIN u p").hasPrefix("b NO [PRIVACYREQUIRED]"))
    }

    @Test func enableAndLogout() {
        var t = Transcript()
        _ = t.send("a LOGIN u p")
        _ = t.session.loginFinished(tag: Array("a".utf8), user: "u")
        #expect(t.reply("b ENABLE UTF8=ACCEPT X-UNKNOWN") == "* ENABLED UTF8=ACCEPT\r\nb OK Options enabled\r\n")
        #expect(t.reply("c ENABLE UTF8=ACCEPT") == "* ENABLED\r\nc OK Options enabled\r\n")
        #expect(t.session.utf8Enabled)
        guard case .sendAndClose(let bytes) = t.send("d LOGOUT") else { Issue.record("LOGOUT closes"); return }
        #expect(String(decoding: bytes, as: UTF8.self) == "* BYE Courier-IMAP server shutting down\r\nd OK LOGOUT completed\r\n")
    }

    @Test func garbageGetsBadThenBye() {
        var t = Transcript()
        #expect(t.reply("\u{1}\u{2}") == "* BAD missing tag\r\n")
        for i in 0..<18 { _ = t.send("x\(i) FROB") }
        guard case .sendAndClose(let bytes) = t.send("last FROB") else { Issue.record("too many errors close"); return }
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("* BYE Too many protocol errors\r\n"))
    }

    @Test func framerEventsBecomeResponses() {
        var t = Transcript()
        #expect(t.session.receive(.continuationNeeded) == .send(Array("+ Ready for literal data\r\n".utf8)))
        #expect(t.session.receive(.tooLong(tag: Array("q".utf8))) == .send(Array("q BAD Command line too long\r\n".utf8)))
        #expect(t.session.receive(.literalRefused(tag: Array("r".utf8), size: 9)) ==
                .send(Array("r NO [TOOBIG] Literal of 9 bytes is too large\r\n".utf8)))
    }
}
