import Delivery
import MailConfig
import SMTP
import Testing
@testable import SMTPServer

/// Routes by domain: example.test is local (user `demo` only), relay.example is accepted for relay.
private struct FakeLookup: RecipientLookup {
    func route(_ address: String) async -> RecipientRoute {
        if address == "demo@example.test" || address.hasPrefix("\"") && address.hasSuffix("@example.test") { return .local }
        if address.hasSuffix("@example.test") { return .unknownUser }
        if address.hasSuffix("@relay.example") { return .acceptedRelay }
        if address.hasSuffix("@down.example") { return .temporaryFailure("ldap down") }
        return .remote
    }
}

private func box(_ local: String, _ domain: String, route: [String] = []) -> SMTPMailbox {
    SMTPMailbox(localPart: local, domain: domain, sourceRoute: route)
}

struct RelayPolicyTests {
    @Test(arguments: [
        (box("demo", "example.test"), false, false, nil as Int?),
        (box("nobody", "example.test"), false, false, 550),
        (box("x", "relay.example"), false, false, nil),
        (box("x", "down.example"), false, false, 451),
        (box("x", "foreign.example"), false, false, 513),
        (box("x", "foreign.example"), false, true, 530),
        (box("x", "foreign.example"), true, false, nil),
        (box("x%foreign.example", "example.test"), false, false, 513),
        (box("foreign.example!x", "example.test"), false, false, 513),
        (box("x@foreign.example", "example.test"), false, false, 513),
        (box("demo", "example.test", route: ["foreign.example"]), false, false, 513),
        (box("demo", "example.test", route: ["foreign.example"]), true, false, nil),
        // Bang paths go nowhere, for relay clients too (Courier has no uucp module here).
        (box("host!x", "foreign.example"), true, false, 511),
        (box("host!demo", "example.test"), true, false, 511),
        (box("host!x", "foreign.example"), false, false, 513),
        (SMTPMailbox(localPart: "a!b", wasQuoted: true, domain: "example.test"), true, false, 550),  // quoted: looked up
    ])
    func decisions(mailbox: SMTPMailbox, relayAllowed: Bool, submission: Bool, code: Int?) async {
        let refusal = await RelayPolicy(isSubmission: submission).check(mailbox, relayAllowed: relayAllowed, lookup: FakeLookup())
        #expect(refusal?.code == code)
        // The event-loop path answers bang paths the same way.
        if mailbox.isBangPath {
            let quick = RelayPolicy(isSubmission: submission).checkWithoutLookup(mailbox, relayAllowed: relayAllowed, lookup: FakeLookup())
            #expect(quick == .some(refusal))
        }
    }

    @Test func bangPathIsUndeliverableUnlessBlocked() async {
        let block = Replies.blocked("550 go away")
        let refusal = await RelayPolicy(isSubmission: false).check(box("h!x", "foreign.example"), relayAllowed: true,
                                                                   block: block, lookup: FakeLookup())
        #expect(refusal == block)
        #expect(Replies.undeliverable.encoded() == Array("511 Undeliverable address.\r\n".utf8))
    }
}

struct ClientAccessTests {
    private func rule(_ netblock: String, _ action: AccessRule.Action) -> AccessRule {
        AccessRule(netblock: netblock, action: action, file: "smtpaccess/default", line: 1)
    }

    @Test func mostSpecificWins() {
        let rules = [
            rule("*", .allow([])),
            rule("192.168", .allow([AccessVariable(name: "RELAYCLIENT", value: "")])),
            rule("192.168.5", .allow([])),
            rule("10.1.2.3", .deny),
            rule(":0000:0000:0000:0000:0000:0000:0000:0001", .allow([AccessVariable(name: "RELAYCLIENT", value: "")])),
            rule("172.16.0.0/12", .allow([AccessVariable(name: "RELAYCLIENT", value: "")])),
        ]
        #expect(ClientAccess.lookup("192.168.1.1", in: rules).relayClient)
        #expect(!ClientAccess.lookup("192.168.5.1", in: rules).relayClient)
        #expect(ClientAccess.lookup("10.1.2.3", in: rules).denied)
        #expect(!ClientAccess.lookup("10.1.2.4", in: rules).denied)
        #expect(ClientAccess.lookup("::1", in: rules).relayClient)
        #expect(ClientAccess.lookup("::ffff:192.168.1.1", in: rules).relayClient)
        #expect(ClientAccess.lookup("172.20.1.1", in: rules).relayClient)
        #expect(!ClientAccess.lookup("172.32.1.1", in: rules).relayClient)
        #expect(ClientAccess.lookup("8.8.8.8", in: []) == ClientAccess())
    }

    @Test func ipv6Expansion() {
        #expect(ClientAccess.expandIPv6("::1") == "0000:0000:0000:0000:0000:0000:0000:0001")
        #expect(ClientAccess.expandIPv6("2001:db8::5") == "2001:0db8:0000:0000:0000:0000:0000:0005")
        #expect(ClientAccess.expandIPv6("1.2.3.4") == nil)
        #expect(ClientAccess.expandIPv6("1::2::3") == nil)
    }
}

struct ReceivedHeaderTests {
    @Test func protocolTypes() {
        let plain = ReceivedHeader.make(helo: "c.example", clientIP: "192.0.2.1", me: "mx.example", extended: true,
                                        tls: false, authenticatedUser: nil, smtputf8: false, date: "D")
        #expect(plain == "Received: from c.example ([192.0.2.1])\n  by mx.example with ESMTP; D\n")
        let full = ReceivedHeader.make(helo: "c", clientIP: "::1", me: "m", extended: true, tls: true,
                                       authenticatedUser: "demo", smtputf8: true, date: "D")
        #expect(full == "Received: from c ([::1])\n  (AUTH: demo, TLS)\n  by m with UTF8SMTPSA; D\n")
        #expect(ReceivedHeader.make(helo: nil, clientIP: "1.2.3.4", me: "m", extended: false, tls: false,
                                    authenticatedUser: nil, smtputf8: false, date: "D").contains("with SMTP;"))
    }
}

struct BlockTests {
    @Test func blockRefusesOnlyAfterTheRelayCheck() async {
        let block = Replies.blocked("Blacklisted by bl.example")
        let policy = RelayPolicy(isSubmission: false)
        #expect(await policy.check(box("demo", "example.test"), relayAllowed: false, block: block, lookup: FakeLookup()) == block)
        #expect(await policy.check(box("x", "foreign.example"), relayAllowed: false, block: block, lookup: FakeLookup())?.code == 513)
        #expect(await policy.check(box("x", "foreign.example"), relayAllowed: true, block: block, lookup: FakeLookup()) == block)
    }

    @Test(arguments: [
        ("Blacklisted by bl.example", 511, "Blacklisted by bl.example"),
        ("550 Shoo! Go away!", 550, "Shoo! Go away!"),
        ("451 later", 451, "later"),
        ("250 fine", 511, "250 fine"),
        ("45", 511, "45"),
    ])
    func blockReplyCodes(text: String, code: Int, line: String) {
        let reply = Replies.blocked(text)
        #expect(reply.code == code)
        #expect(reply.lines == [line])
    }

    @Test func blockListOptions() {
        let rules = DNSListRule.parse(#"-drop -block=bl.example -block=zen.example=Spamhaus,BLOCK2/127.0.0.4,"550 go away" -allow=white.example,BLOCK,"#)
        #expect(rules.count == 3)
        #expect(rules[0] == DNSListRule(kind: .block, zone: "bl.example", display: "bl.example", variable: "BLOCK",
                                        requiredAddress: nil, message: nil))
        #expect(rules[1] == DNSListRule(kind: .block, zone: "zen.example", display: "Spamhaus", variable: "BLOCK2",
                                        requiredAddress: "127.0.0.4", message: "550 go away"))
        #expect(rules[2] == DNSListRule(kind: .allow, zone: "white.example", display: "white.example", variable: "BLOCK",
                                        requiredAddress: nil, message: ""))
        #expect(rules[0].queryName(for: "192.0.2.1")?.description.hasPrefix("1.2.0.192.bl.example") == true)
        #expect(rules[0].queryName(for: "::ffff:192.0.2.1")?.description.hasPrefix("1.2.0.192.bl.example") == true)
        #expect(rules[0].queryName(for: "2001:db8::1")?.description.hasPrefix("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example") == true)
    }
}
