import Testing
import MailQueue
@testable import ESMTPTransport

@Suite struct BackoffTableTests {
    @Test func backOffRunsOutAndCanBeOff() {
        let memory = BackoffTable()
        let start = ContinuousClock.now
        memory.remember("a.test", text: "connection refused", seconds: 300, now: start)
        #expect(memory.deferral(for: "a.test", now: start + .seconds(299)) == "connection refused")
        #expect(memory.deferral(for: "b.test", now: start) == nil)
        #expect(memory.deferral(for: "a.test", now: start + .seconds(300)) == nil)
        #expect(memory.deferral(for: "a.test", now: start) == nil) // expired entries are dropped
        memory.remember("c.test", text: "x", seconds: 0, now: start)
        #expect(memory.deferral(for: "c.test", now: start) == nil)
    }
}

@Suite struct ESMTPTransportHelperTests {
    @Test func notifyAndDomains() {
        #expect(ESMTPTransport.notifyKeywords([.never, .failure]) == ["NEVER"])
        #expect(ESMTPTransport.notifyKeywords([.delay, .success, .failure]) == ["SUCCESS", "FAILURE", "DELAY"])
        #expect(ESMTPTransport.notifyKeywords([]) == [])
        #expect(ESMTPTransport.domain(of: "a@B.Example") == "b.example")
        #expect(ESMTPTransport.domain(of: "\"x@y\"@z.test") == "z.test")
        #expect(ESMTPTransport.domain(of: "local") == "")
    }

    @Test func configurationFiles() throws {
        let dir = "/tmp/esmtp-config-test-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdirAll(dir))
        defer { removeAll(dir) }
        try write(dir + "/esmtproutes", ".x.test: [127.0.0.1],2525\n: smart.example,587 /SECURITY=REQUIRED\n")
        try write(dir + "/esmtpauthclient", "smart.example,587 u p#w\n")
        try write(dir + "/esmtphelo", "out.example\n")
        try write(dir + "/ipout", "0\n")
        try write(dir + "/ip6out", "::1\n")
        try write(dir + "/esmtpdelay", "0\n")
        try write(dir + "/esmtptimeoutconnect", "2m\n")
        let config = ESMTPConfiguration.load(etc: dir, me: "me.example")
        #expect(config.routes.count == 2)
        #expect(config.authClient.first?.password == "p#w")
        #expect(config.heloName == "out.example")
        #expect(config.sourceIPv4 == nil && config.sourceIPv6 == "::1")
        #expect(config.esmtpDelay == 0)
        #expect(config.timeouts.connect == 120)
        let empty = ESMTPConfiguration.load(etc: dir + "/missing", me: "me.example")
        #expect(empty.routes.isEmpty && empty.heloName == "me.example" && empty.esmtpDelay == 300)
    }
}

@Suite struct LoopbackTests {
    @Test func loopbackAddresses() {
        #expect(ESMTPTransport.isLoopback("127.0.0.1"))
        #expect(ESMTPTransport.isLoopback("127.3.2.1"))
        #expect(ESMTPTransport.isLoopback("::1"))
        #expect(ESMTPTransport.isLoopback("::ffff:127.0.0.1"))
        #expect(!ESMTPTransport.isLoopback("192.0.2.1"))
        #expect(!ESMTPTransport.isLoopback("2001:db8::1"))
    }
}
