import DNS
import MailConfig
import Testing
@testable import SMTPServer

struct FromHeaderSPFTests {
    private func address(_ header: String) -> String? {
        SenderPolicy.fromHeaderAddress(in: Array(header.utf8))
    }

    @Test func firstAddressOfTheFirstFromField() {
        #expect(address("Subject: x\nFrom: \"Joe, Jr\" <joe@a.test>, b@b.test\n") == "joe@a.test")
        #expect(address("FROM: group: x@g.test, y@h.test;\nFrom: other@o.test\n") == "x@g.test")
        #expect(address("From: joe@a.test (Joe)\n") == "joe@a.test")
        #expect(address("From:\n  <folded@a.test>\n") == "folded@a.test")
        #expect(address("Subject: no from\n") == nil)
        #expect(address("From: empty-group: ;\n") == nil)
        #expect(address("From: \n") == nil)
    }

    @Test func whenTheCheckApplies() {
        var policy = SenderPolicy(bofh: BofhSettings(), checkDNS: false, checkHelo: 0,
                                  resolver: DNSResolver(configuration: ResolverConfiguration(servers: [])))
        #expect(!policy.checksFromHeader(relayClient: false, mailFromPassed: false))
        policy.spf.from = SPFPolicy.keywords("pass,none")
        #expect(policy.checksFromHeader(relayClient: false, mailFromPassed: true))
        #expect(policy.checksFromHeader(relayClient: true, mailFromPassed: false))
        policy.spf.trustRelayClients = true
        #expect(!policy.checksFromHeader(relayClient: true, mailFromPassed: false))
        policy.spf.from = SPFPolicy.keywords("pass,none,mailfromok")
        #expect(!policy.checksFromHeader(relayClient: false, mailFromPassed: true))
        #expect(policy.checksFromHeader(relayClient: false, mailFromPassed: false))
        policy.spf.from = SPFPolicy.keywords("off")
        #expect(!policy.checksFromHeader(relayClient: false, mailFromPassed: false))
    }
}
