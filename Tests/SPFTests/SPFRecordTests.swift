import Testing
@testable import SPF

struct SPFRecordTests {
    @Test func parsesMechanismsAndModifiers() throws {
        let record = try #require(SPFRecord.parse(
            "v=spf1 +a mx:mail.%{d}/24 -ip4:192.0.2.0/24 ~ip6:2001:db8::/32 ?include:_spf.example.com ptr exists:%{i}.bl.example a//64 redirect=other.example exp=why.%{d} unknown-mod=x -all"))
        #expect(record.directives.count == 9)
        #expect(record.directives[0].qualifier == .pass && record.directives[0].mechanism == .a(nil, cidr4: 32, cidr6: 128))
        #expect(record.directives[1].mechanism == .mx("mail.%{d}", cidr4: 24, cidr6: 128))
        #expect(record.directives[2].qualifier == .fail && record.directives[2].mechanism == .ip4([192, 0, 2, 0], prefix: 24))
        #expect(record.directives[3].qualifier == .softfail)
        #expect(record.directives[3].mechanism == .ip6([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 12), prefix: 32))
        #expect(record.directives[4].qualifier == .neutral && record.directives[4].mechanism == .include("_spf.example.com"))
        #expect(record.directives[5].mechanism == .ptr(nil))
        #expect(record.directives[6].mechanism == .exists("%{i}.bl.example"))
        #expect(record.directives[7].mechanism == .a(nil, cidr4: 32, cidr6: 64))
        #expect(record.directives[8].mechanism == .all && record.directives[8].qualifier == .fail)
        #expect(record.redirect == "other.example" && record.explanation == "why.%{d}")
    }

    @Test(arguments: ["v=spf1 ip4:300.1.1.1", "v=spf1 ip4:192.0.2.0/33", "v=spf1 a:", "v=spf1 include",
                      "v=spf1 bogus", "v=spf1 redirect=a redirect=b", "v=spf1 a/", "v=spf1 all:x",
                      "v=spf1 exists:%{z}", "v=spf1 ip6:2001:db8::1::2", "v=spf1 mx//129",
                      "v=spf1 ip4:192.0.02.1", "v=spf1 ip6:+1::", "v=spf1 include:%{c}.example", "v=spf1 redirect=%{r}",
                      "v=spf1 exists:%{\u{00DF}}", "v=spf1 a/024", "v=spf1 a:example.com/"])
    func syntaxErrors(record: String) {
        #expect(SPFRecord.parse(record) == nil)
    }

    @Test func macroWithASlashKeepsTheCIDR() throws {
        let record = try #require(SPFRecord.parse("v=spf1 a:%{l/}.example.com/24 mx:%{d}//64 -all"))
        #expect(record.directives[0].mechanism == .a("%{l/}.example.com", cidr4: 24, cidr6: 128))
        #expect(record.directives[1].mechanism == .mx("%{d}", cidr4: 32, cidr6: 64))
    }

    @Test func versionTag() {
        #expect(SPFRecord.isSPF("v=spf1"))
        #expect(SPFRecord.isSPF("V=SPF1 -all"))
        #expect(!SPFRecord.isSPF("v=spf10 -all"))
        #expect(!SPFRecord.isSPF("v=DKIM1; p=..."))
    }

    @Test func networks() {
        #expect(SPFChecker.inNetwork([192, 0, 2, 77], [192, 0, 2, 0], prefix: 24))
        #expect(!SPFChecker.inNetwork([192, 0, 3, 77], [192, 0, 2, 0], prefix: 24))
        #expect(SPFChecker.inNetwork([192, 0, 2, 77], [10, 0, 0, 0], prefix: 0))
        #expect(SPFChecker.inNetwork([192, 0, 2, 77], [192, 0, 2, 64], prefix: 26))
        #expect(!SPFChecker.inNetwork([192, 0, 2, 77], [192, 0, 2, 64], prefix: 29))
        #expect(SPFChecker.normalise("::FFFF:192.0.2.1") == "192.0.2.1")
    }
}

/// RFC 7208 §7.4's examples.
struct SPFMacroTests {
    let v4 = SPFMacroContext(sender: "strong-bad@email.example.com", domain: "email.example.com", ip: "192.0.2.3",
                             helo: "mx.example.org", receiver: "mx.example.test")

    @Test(arguments: [
        ("%{s}", "strong-bad@email.example.com"), ("%{o}", "email.example.com"), ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"), ("%{d3}", "email.example.com"), ("%{d2}", "example.com"), ("%{d1}", "com"),
        ("%{dr}", "com.example.email"), ("%{d2r}", "example.email"), ("%{l}", "strong-bad"), ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"), ("%{lr-}", "bad.strong"), ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        ("%%%_%-", "% %20"), ("%{S}", "strong-bad%40email.example.com"),
    ])
    func ipv4Examples(macro: String, expected: String) throws {
        #expect(try SPFMacro.expand(macro, context: v4, explanation: false) == expected)
    }

    @Test func ipv6Example() throws {
        var context = v4
        context.ip = "2001:db8::cb01"
        #expect(try SPFMacro.expand("%{ir}.%{v}._spf.%{d2}", context: context, explanation: false)
                == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
    }

    @Test func explanationOnlyLetters() throws {
        #expect(throws: SPFMacro.Failure.self) { try SPFMacro.expand("%{r}", context: v4, explanation: false) }
        #expect(try SPFMacro.expand("%{c} is not allowed by %{r}", context: v4, explanation: true)
                == "192.0.2.3 is not allowed by mx.example.test")
        #expect(throws: SPFMacro.Failure.self) { try SPFMacro.expand("%{x}", context: v4, explanation: true) }
        #expect(throws: SPFMacro.Failure.self) { try SPFMacro.expand("%", context: v4, explanation: true) }
        #expect(throws: SPFMacro.Failure.self) { try SPFMacro.expand("%{d0}", context: v4, explanation: true) }
    }
}
