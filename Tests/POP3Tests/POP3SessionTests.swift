import MailAuthCore
import Testing
@testable import POP3

private func text(_ actions: [POP3Action]) -> String {
    actions.map { action -> String in
        switch action {
        case .send(let bytes), .sendAndClose(let bytes), .sendAndStartTLS(let bytes): String(decoding: bytes, as: UTF8.self)
        case .quit(let reply, _): String(decoding: reply, as: UTF8.self)
        default: ""
        }
    }.joined()
}

private func line(_ s: String) -> ArraySlice<UInt8> { Array(s.utf8)[...] }

private let sample = [
    POP3Message(path: "cur/1.a:2,", size: 23, uidl: "UID1-1795709431"),
    POP3Message(path: "cur/2.b:2,S", size: 40, uidl: "UID2-1795709431"),
]

private func loggedInSession() -> POP3Session {
    var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
    _ = session.receive(line: line("USER alice"))
    _ = session.receive(line: line("PASS secret"))
    _ = session.loggedIn(user: "alice", messages: sample)
    return session
}

@Suite struct POP3SessionTests {
    @Test func capabilitiesAreCouriers() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h", stlsAvailable: true))
        #expect(text(session.receive(line: line("CAPA"))) == """
            +OK Here's what I can do:\r\nSTLS\r\nTOP\r\nUSER\r\nLOGIN-DELAY 10\r\nPIPELINING\r\nUIDL\r\n\
            UTF8 USER\r\nLANG\r\nIMPLEMENTATION Courier Mail Server\r\n.\r\n
            """)
        #expect(session.receive(line: line("STLS")) == [.sendAndStartTLS(Array("+OK Begin SSL/TLS negotiation now.\r\n".utf8))])
        session.tlsStarted()
        #expect(!text(session.receive(line: line("CAPA"))).contains("STLS"))
    }

    @Test func saslLineAppearsWhenConfigured() {
        var session = POP3Session(configuration: POP3SessionConfiguration(
            hostName: "h", stlsAvailable: true, advertisedMechanisms: ["LOGIN", "CRAM-MD5"]))
        #expect(text(session.receive(line: line("CAPA"))).hasPrefix("+OK Here's what I can do:\r\nSASL LOGIN CRAM-MD5\r\nSTLS\r\n"))
    }

    @Test func authorizationReplies() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
        #expect(text(session.receive(line: line("greetings"))) == "-ERR Invalid command.\r\n")
        #expect(text(session.receive(line: line("STAT"))) == "-ERR Invalid command.\r\n")
        #expect(text(session.receive(line: line("APOP alice 0123"))) == "-ERR Invalid command.\r\n")
        #expect(text(session.receive(line: line("AUTH"))) == "-ERR Invalid command.\r\n")
        #expect(text(session.receive(line: line("PASS x"))) == "-ERR USER/PASS required.\r\n")
        #expect(text(session.receive(line: line("user alice"))) == "+OK Password required.\r\n")
        #expect(session.receive(line: line("PASS two words")) ==
                [.authenticate(.password(user: "alice", password: Array("two words".utf8), sasl: false))])
        #expect(text(session.loginFailed()) == "-ERR Login failed.\r\n")
        #expect(text(session.receive(line: line("QUIT"))) == "+OK Better luck next time.\r\n")
    }

    @Test func tlsRequiredRefusesUser() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h", stlsAvailable: true, tlsRequired: true))
        #expect(text(session.receive(line: line("USER alice"))) == "-ERR TLS required to log in.\r\n")
        session.tlsStarted()
        #expect(text(session.receive(line: line("USER alice"))) == "+OK Password required.\r\n")
    }

    @Test func plaintextPolicyRefusesPlainWithoutTLS() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h", plaintextAllowedWithoutTLS: false))
        #expect(text(session.receive(line: line("AUTH PLAIN AGFsaWNlAHNlY3JldA=="))) == "-ERR TLS required to log in.\r\n")
        #expect(text(session.receive(line: line("AUTH CRAM-MD5"))).hasPrefix("+ "))
    }

    @Test func saslPlainLoginAndAbort() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
        #expect(session.receive(line: line("AUTH PLAIN AGFsaWNlAHNlY3JldA==")) ==
                [.authenticate(.password(user: "alice", password: Array("secret".utf8), sasl: true))])
        #expect(text(session.loginFailed()) == "-ERR Authentication failed.\r\n")
        #expect(text(session.receive(line: line("AUTH LOGIN"))) == "+ VXNlcm5hbWU6\r\n")
        #expect(text(session.receive(line: line("YWxpY2U="))) == "+ UGFzc3dvcmQ6\r\n")
        #expect(session.receive(line: line("c2VjcmV0")) ==
                [.authenticate(.password(user: "alice", password: Array("secret".utf8), sasl: true))])
        _ = session.loginFailed()
        _ = session.receive(line: line("AUTH LOGIN"))
        #expect(text(session.receive(line: line("*"))) == "-ERR Authentication aborted.\r\n")
        #expect(text(session.receive(line: line("NOOP"))) == "-ERR Invalid command.\r\n")
    }

    @Test func transactionCommands() {
        var session = loggedInSession()
        #expect(text(session.receive(line: line("STAT"))) == "+OK 2 63\r\n")
        #expect(text(session.receive(line: line("LIST"))) ==
                "+OK POP3 clients that break here, they violate STD53.\r\n1 23\r\n2 40\r\n.\r\n")
        #expect(text(session.receive(line: line("LIST 1"))) == "+OK 1 23\r\n")
        #expect(text(session.receive(line: line("LIST 9"))) == "-ERR Invalid message number.\r\n")
        #expect(text(session.receive(line: line("LIST x"))) == "-ERR Invalid message number.\r\n")
        #expect(text(session.receive(line: line("UIDL"))) == "+OK\r\n1 UID1-1795709431\r\n2 UID2-1795709431\r\n.\r\n")
        #expect(text(session.receive(line: line("UIDL 2"))) == "+OK 2 UID2-1795709431\r\n")
        #expect(session.receive(line: line("RETR 2")) == [.transmit(index: 1, path: "cur/2.b:2,S", size: 40, topLines: nil, wrapper: nil)])
        #expect(session.receive(line: line("TOP 1 5")) == [.transmit(index: 0, path: "cur/1.a:2,", size: 23, topLines: 5, wrapper: nil)])
        #expect(text(session.receive(line: line("DELE 1"))) == "+OK Deleted.\r\n")
        #expect(text(session.receive(line: line("DELE 1"))) == "-ERR Invalid message number.\r\n")
        #expect(text(session.receive(line: line("RETR 1"))) == "-ERR Invalid message number.\r\n")
        #expect(text(session.receive(line: line("STAT"))) == "+OK 1 40\r\n")
        #expect(text(session.receive(line: line("UIDL"))) == "+OK\r\n2 UID2-1795709431\r\n.\r\n")
        #expect(text(session.receive(line: line("RSET"))) == "+OK Resurrected.\r\n")
        #expect(text(session.receive(line: line("STAT"))) == "+OK 2 63\r\n")
        #expect(text(session.receive(line: line("NOOP"))) == "+OK Yup.\r\n")
        #expect(text(session.receive(line: line("LAST"))) == "-ERR Invalid command.\r\n")
        _ = session.receive(line: line("DELE 2"))
        #expect(session.receive(line: line("QUIT")) == [.quit(reply: Array("+OK Bye-bye.\r\n".utf8), deletions: ["cur/2.b:2,S"])])
        #expect(session.retrCount == 1 && session.topCount == 1)
    }

    @Test func garbageNeverStopsTheSession() {
        var session = loggedInSession()
        for junk in ["", " ", "\u{1}\u{2}", "RETR", "RETR 1 2", "TOP 1", "TOP 1 -1", "DELE 0", "LIST 99999999999999999999"] {
            let reply = text(session.receive(line: line(junk)))
            #expect(reply.hasPrefix("-ERR"), "\(junk)")
        }
        #expect(text(session.receiveOverlongLine()) == "-ERR Invalid command.\r\n")
        #expect(text(session.receive(line: line("STAT"))) == "+OK 2 63\r\n")
    }

    @Test func apopOnlyWhenEnabled() {
        var courier = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
        #expect(String(decoding: courier.greeting, as: UTF8.self) == "+OK Hello there.\r\n")
        #expect(text(courier.receive(line: line("APOP alice c4c9334bac560ecc979e58001b3e22fb"))) == "-ERR Invalid command.\r\n")
        var ours = POP3Session(configuration: POP3SessionConfiguration(hostName: "h", apopTimestamp: "<1896.697170952@dbc.mtview.ca.us>"))
        #expect(String(decoding: ours.greeting, as: UTF8.self) == "+OK Hello there. <1896.697170952@dbc.mtview.ca.us>\r\n")
        #expect(ours.receive(line: line("APOP mrose c4c9334bac560ecc979e58001b3e22fb")) ==
                [.authenticate(.apop(user: "mrose", timestamp: "<1896.697170952@dbc.mtview.ca.us>",
                                     digest: "c4c9334bac560ecc979e58001b3e22fb"))])
        #expect(text(ours.loginFailed()) == "-ERR Login failed.\r\n")
        #expect(text(ours.receive(line: line("APOP mrose"))) == "-ERR Invalid command.\r\n")
    }

    @Test func apopDigestIsRFC1939Example() {
        // RFC 1939 §7: shared secret "tanstaaf".
        #expect(APOPDigest.expected(timestamp: "<1896.697170952@dbc.mtview.ca.us>", password: "tanstaaf")
                == "c4c9334bac560ecc979e58001b3e22fb")
        #expect(APOPDigest.matches("C4C9334BAC560ECC979E58001B3E22FB", timestamp: "<1896.697170952@dbc.mtview.ca.us>",
                                   password: "tanstaaf"))
        #expect(!APOPDigest.matches("c4c9", timestamp: "<1896.697170952@dbc.mtview.ca.us>", password: "tanstaaf"))
    }

    @Test func scramProofMismatchCountsAsFailedLogin() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
        let first = "n,,n=alice,r=rOprNGfwEbeRWgbNEkqO"
        #expect(session.receive(line: line("AUTH SCRAM-SHA-256 " + AuthEncoding.base64(Array(first.utf8)))) ==
                [.authenticate(.scramCredentials(.sha256, user: "alice"))])
        let challenge = text(session.provideScram(nil))
        let serverFirst = String(decoding: AuthEncoding.decodeBase64(String(challenge.dropFirst(2).dropLast(2))) ?? [], as: UTF8.self)
        let nonce = serverFirst.split(separator: ",")[0].dropFirst(2)
        let final = "c=biws,r=\(nonce),p=" + AuthEncoding.base64([UInt8](repeating: 1, count: 32))
        let actions = session.receive(line: line(AuthEncoding.base64(Array(final.utf8))))
        #expect(actions.first == .recordFailedLogin(user: "alice"))
        #expect(text(actions) == "-ERR Authentication failed.\r\n")
    }

    @Test func refusedAccountCloses() {
        var session = POP3Session(configuration: POP3SessionConfiguration(hostName: "h"))
        _ = session.receive(line: line("USER bob"))
        _ = session.receive(line: line("PASS pw"))
        #expect(session.loginRefused(POP3Replies.accountDisabled) ==
                [.sendAndClose(Array("-ERR POP3 access disabled for this account.\r\n".utf8))])
    }
}
