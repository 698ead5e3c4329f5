import Testing
@testable import SMTP

private func parse(_ line: String) -> Result<SMTPCommand, SMTPCommandError> {
    SMTPCommandParser.parse(Array(line.utf8)[...])
}

private func mailbox(_ local: String, _ domain: String, quoted: Bool = false, route: [String] = []) -> SMTPMailbox {
    SMTPMailbox(localPart: local, wasQuoted: quoted, domain: domain, sourceRoute: route)
}

struct CommandParserTests {
    @Test(arguments: [
        ("EHLO client.example", SMTPCommand.ehlo("client.example")),
        ("ehlo [127.0.0.1]", .ehlo("[127.0.0.1]")),
        ("HELO x", .helo("x")),
        ("DATA", .data),
        ("data  ", .data),
        ("RSET", .rset),
        ("NOOP", .noop),
        ("NOOP anything", .noop),
        ("QUIT", .quit),
        ("STARTTLS", .startTLS),
        ("VRFY postmaster", .vrfy("postmaster")),
        ("EXPN list", .expn("list")),
        ("HELP", .help("")),
        ("BDAT 100", .bdat(size: 100, last: false)),
        ("BDAT 0 LAST", .bdat(size: 0, last: true)),
        ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("auth plain AGRlbW8AZGVtbw==", .auth(mechanism: "PLAIN", initialResponse: "AGRlbW8AZGVtbw==")),
        ("MAIL FROM:<>", .mail(.null, MailParameters())),
        ("mail from:<a@b.c>", .mail(.mailbox(mailbox("a", "b.c")), MailParameters())),
        ("MAIL FROM: <a@b.c>", .mail(.mailbox(mailbox("a", "b.c")), MailParameters())),
        ("RCPT TO:<demo@example.test>", .rcpt(mailbox("demo", "example.test"), RcptParameters())),
        ("RCPT TO:<\"a b\"@example.test>", .rcpt(mailbox("a b", "example.test", quoted: true), RcptParameters())),
        ("RCPT TO:<\"a\\\"b\"@example.test>", .rcpt(mailbox("a\"b", "example.test", quoted: true), RcptParameters())),
        ("RCPT TO:<@relay.example,@r2.example:u@example.test>", .rcpt(mailbox("u", "example.test", route: ["relay.example", "r2.example"]), RcptParameters())),
        ("RCPT TO:<u@[192.0.2.1]>", .rcpt(mailbox("u", "[192.0.2.1]"), RcptParameters())),
        ("RCPT TO:<u%remote.example@example.test>", .rcpt(mailbox("u%remote.example", "example.test"), RcptParameters())),
    ])
    func parses(line: String, expected: SMTPCommand) {
        #expect(parse(line) == .success(expected))
    }

    @Test(arguments: [
        ("", SMTPCommandError.unknownCommand),
        ("EHLO", .unknownCommand),
        ("EHLO ", .unknownCommand),
        ("FOO bar", .unknownCommand),
        ("DATA x", .unknownCommand),
        ("QUITX", .unknownCommand),
        ("MAIL FROM:a@b.c", .pathSyntax),
        ("MAIL FROM <a@b.c>", .pathSyntax),
        ("MAIL FROM:<a@b.c", .pathSyntax),
        ("MAIL FROM:<a.@b.c>", .pathSyntax),
        ("MAIL FROM:<.a@b.c>", .pathSyntax),
        ("MAIL FROM:<a..b@b.c>", .pathSyntax),
        ("MAIL FROM:<a@-b.c>", .pathSyntax),
        ("MAIL FROM:<a@b-.c>", .pathSyntax),
        ("MAIL FROM:<a@b..c>", .pathSyntax),
        ("MAIL FROM:<a@>", .pathSyntax),
        ("MAIL FROM:<@b.c>", .pathSyntax),
        ("MAIL FROM:<a b@b.c>", .pathSyntax),
        ("MAIL FROM:<a@b.c>x", .pathSyntax),
        ("RCPT TO:<>", .pathSyntax),
        ("RCPT TO:<a@b.c> NOTIFY=NEVER,SUCCESS", .parameterSyntax),
        ("RCPT TO:<a@b.c> NOTIFY=SOMETIMES", .parameterSyntax),
        ("RCPT TO:<a@b.c> ORCPT=rfc822", .parameterSyntax),
        ("MAIL FROM:<a@b.c> SIZE=12x", .parameterSyntax),
        ("MAIL FROM:<a@b.c> SIZE=9999999999999999999999", .parameterSyntax),
        ("MAIL FROM:<a@b.c> BODY=9BIT", .parameterSyntax),
        ("MAIL FROM:<a@b.c> RET=ALL", .parameterSyntax),
        ("MAIL FROM:<a@b.c> ENVID=a+zz", .parameterSyntax),
        ("MAIL FROM:<a@b.c> SMTPUTF8=yes", .parameterSyntax),
        ("MAIL FROM:<a@b.c> =x", .pathSyntax),
        ("MAIL FROM:<a\u{1}@b.c>", .pathSyntax),
        ("RCPT TO:<u@[1.2.3.4>", .pathSyntax),
    ])
    func refuses(line: String, error: SMTPCommandError) {
        #expect(parse(line) == .failure(error))
    }

    @Test func mailParameters() throws {
        guard case .success(.mail(let path, let p)) = parse("MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=x+2By SMTPUTF8 XVERP SECURITY=STARTTLS AUTH=<> EXDATA") else {
            Issue.record("did not parse"); return
        }
        #expect(path == .mailbox(mailbox("a", "b.c")))
        #expect(p.size == 1000)
        #expect(p.body == .eightBitMIME)
        #expect(p.ret == .headers)
        #expect(p.envelopeID == "x+y")
        #expect(p.smtputf8)
        #expect(p.verp)
        #expect(p.securityStartTLS)
        #expect(p.auth == "<>")
    }

    @Test func rcptParameters() {
        guard case .success(.rcpt(_, let p)) = parse("RCPT TO:<a@b.c> NOTIFY=success,DELAY ORCPT=rfc822;a+40b.c") else {
            Issue.record("did not parse"); return
        }
        #expect(p.notify == [.success, .delay])
        #expect(p.originalRecipient == "rfc822;a@b.c")
        guard case .success(.rcpt(_, let never)) = parse("RCPT TO:<a@b.c> NOTIFY=NEVER") else { return }
        #expect(never.notify == .never)
    }

    /// RFC 5321 §4.5.3.1: local-part 64, domain 255, path 256.
    @Test func pathLimits() {
        let local64 = String(repeating: "l", count: 64)
        #expect(throws: Never.self) { try parse("RCPT TO:<\(local64)@b.c>").get() }
        #expect(parse("RCPT TO:<\(local64)x@b.c>") == .failure(.pathTooLong))
        let label = String(repeating: "d", count: 63)
        let domain = [label, label, label, String(repeating: "d", count: 60)].joined(separator: ".")  // 252: "<a@" + 252 + ">" = 256
        #expect(throws: Never.self) { try parse("RCPT TO:<a@\(domain)>").get() }
        #expect(parse("RCPT TO:<a@\(domain)xxx>") == .failure(.pathTooLong))
        #expect(parse("RCPT TO:<a@\(String(repeating: "d", count: 64)).c>") == .failure(.pathTooLong))
        // 64 + 1 + 253 + 2 > 256
        #expect(parse("RCPT TO:<\(local64)@\(domain)>") == .failure(.pathTooLong))
    }

    @Test func utf8Addresses() {
        guard case .success(.rcpt(let box, _)) = parse("RCPT TO:<jös@bücher.example>") else { Issue.record("no parse"); return }
        #expect(!box.isASCII)
    }

    @Test func invalidUTF8IsRefused() {
        var bytes = Array("RCPT TO:<a".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("@b.c>".utf8)
        #expect(SMTPCommandParser.parse(bytes[...]) == .failure(.pathSyntax))
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let seeds = ["MAIL FROM:<", "RCPT TO:<", "EHLO ", "AUTH ", "BDAT ", ""]
        for _ in 0..<3000 {
            var bytes = Array((seeds.randomElement(using: &generator) ?? "").utf8)
            bytes += (0..<Int.random(in: 0..<80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = SMTPCommandParser.parse(bytes[...])
        }
    }

    @Test func addressRendering() {
        #expect(mailbox("a b", "x.y", quoted: true).address == "\"a b\"@x.y")
        #expect(mailbox("a.b", "x.y").address == "a.b@x.y")
        #expect(mailbox("a\"b", "x.y").address == "\"a\\\"b\"@x.y")
        #expect(mailbox("a@b", "x.y").hasRoutingInLocalPart)
        #expect(mailbox("a!b", "x.y").hasRoutingInLocalPart)
        #expect(!mailbox("a.b", "x.y").hasRoutingInLocalPart)
    }
}
