import Testing
@testable import MailConfig

@Suite struct ESMTPRoutesTests {
    @Test func manPageExamples() throws {
        let text = """
        # routes
        example.com: relay.domain.com
        domain.com: [192.168.0.2]
        .example.com: [192.168.0.3],26
        receive.example.com: /SECURITY=STARTTLS
        exempt.org:
        v4.org: mx.v4.org /IPV4ONLY,SECURITY=REQUIRED
        : relay.example.com,465 /SECURITY=SMTPS
        """
        let parsed = ESMTPRoutes.parse(try ListFileParser.parse(text, file: "esmtproutes"))
        #expect(parsed.errors.isEmpty)
        let routes = parsed.routes
        #expect(routes.count == 7)
        #expect(ESMTPRoutes.lookup("Example.COM", in: routes) == ESMTPRoute(match: .exact("example.com"), relay: .host("relay.domain.com")))
        #expect(ESMTPRoutes.lookup("domain.com", in: routes)?.relay == .address("192.168.0.2"))
        let sub = ESMTPRoutes.lookup("a.b.example.com", in: routes)
        #expect(sub?.relay == .address("192.168.0.3") && sub?.port == 26)
        // First match wins: receive.example.com is caught by `.example.com` above it.
        #expect(ESMTPRoutes.lookup("receive.example.com", in: routes)?.port == 26)
        #expect(ESMTPRoutes.lookup("exempt.org", in: routes)?.relay == .dns)
        let v4 = ESMTPRoutes.lookup("v4.org", in: routes)
        #expect(v4?.ipv4Only == true && v4?.security == .required && v4?.relay == .host("mx.v4.org"))
        let smart = ESMTPRoutes.lookup("anything.net", in: routes)
        #expect(smart?.match == .all && smart?.port == 465 && smart?.security == .smtps)
    }

    @Test func flagOnlyLineAndBadLines() throws {
        #expect(ESMTPRoutes.parseLine("receive.example.com: /SECURITY=STARTTLS")
                == ESMTPRoute(match: .exact("receive.example.com"), relay: .dns, security: .startTLS))
        #expect(ESMTPRoutes.parseLine("x.org: [::1],2525")?.relay == .address("::1"))
        #expect(ESMTPRoutes.parseLine("x.org: [::1],2525")?.port == 2525)
        #expect(ESMTPRoutes.parseLine("no colon here") == nil)
        #expect(ESMTPRoutes.parseLine("x.org: host,99999") == nil)
        #expect(ESMTPRoutes.parseLine("x.org: two hosts") == nil)
        let parsed = ESMTPRoutes.parse(try ListFileParser.parse("bad\nok.org: [127.0.0.1]\n", file: "esmtproutes"))
        #expect(parsed.routes.count == 1 && parsed.errors.count == 1)
    }

    @Test func authClient() throws {
        let entries = ESMTPAuthClientEntry.parse(try ListFileParser.parse(
            "relay.example.com,587 john@example.com secret\nsmart.example.net joe pw\nbroken line\n", file: "esmtpauthclient"))
        #expect(entries.count == 2)
        #expect(ESMTPAuthClientEntry.lookup(host: "Relay.Example.com", port: 587, in: entries)?.user == "john@example.com")
        #expect(ESMTPAuthClientEntry.lookup(host: "relay.example.com", port: 25, in: entries) == nil)
        #expect(ESMTPAuthClientEntry.lookup(host: "smart.example.net", port: 25, in: entries)?.password == "pw")
    }
}
