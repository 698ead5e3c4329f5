import Testing
import MailQueue
@testable import ESMTPTransport

@Suite struct DeliverySlotsTests {
    @Test func perHostAndTotalLimits() async {
        let slots = DeliverySlots(maxTotal: 3, maxPerHost: 2)
        #expect(await slots.acquire("a.test"))
        #expect(await slots.acquire("a.test"))
        #expect(await slots.acquire("b.test"))
        #expect(slots.active.total == 3)
        #expect(slots.active.hosts == ["a.test": 2, "b.test": 1])
        // A third for a.test must wait (MAXHOST), and so must c.test (MAXDELS).
        let third = Task { await slots.acquire("a.test") }
        let other = Task { await slots.acquire("c.test") }
        try? await Task.sleep(nanoseconds: 50_000_000)
        #expect(slots.active.total == 3)
        slots.release("b.test")
        // Total room again, a.test still full: c.test goes first.
        #expect(await other.value)
        #expect(slots.active.hosts["c.test"] == 1)
        slots.release("a.test")
        #expect(await third.value)
        #expect(slots.active.hosts == ["a.test": 2, "c.test": 1])
    }

    @Test func cancelledWaiterTakesNoSlot() async {
        let slots = DeliverySlots(maxTotal: 1, maxPerHost: 1)
        #expect(await slots.acquire("a.test"))
        let waiting = Task { await slots.acquire("a.test") }
        try? await Task.sleep(nanoseconds: 50_000_000)
        waiting.cancel()
        #expect(await waiting.value == false)
        slots.release("a.test")
        #expect(slots.active.total == 0)
        #expect(await slots.acquire("b.test"))
    }
}

@Suite struct ReuseSettingsTests {
    @Test func moduleLimitsAndKeepAlive() throws {
        let dir = "/tmp/esmtp-limits-test-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdirAll(dir))
        defer { removeAll(dir) }
        #expect(ESMTPModuleLimits.load(etc: dir) == ESMTPModuleLimits())
        #expect(ESMTPModuleLimits().maxDeliveries == 40 && ESMTPModuleLimits().maxPerHost == 4)
        #expect(ESMTPModuleLimits().maxRecipients == 100)
        try write(dir + "/module.esmtp", "# Courier's module file\nNAME=esmtp\nMAXDELS=12\nMAXHOST=2\nMAXRCPT=7\n")
        let limits = ESMTPModuleLimits.load(etc: dir)
        #expect(limits.maxDeliveries == 12 && limits.maxPerHost == 2 && limits.maxRecipients == 7)
        try write(dir + "/module.esmtp", "MAXDELS=0\nMAXHOST=x\nMAXRCPT=-1\n")
        #expect(ESMTPModuleLimits.load(etc: dir) == ESMTPModuleLimits())
        #expect(ESMTPConfiguration.load(etc: dir, me: "me.example").keepAlive == 60)
        try write(dir + "/esmtptimeoutkeepalive", "2m\n")
        #expect(ESMTPConfiguration.load(etc: dir, me: "me.example").keepAlive == 120)
    }

    @Test func tlsContextsAreShared() throws {
        let cache = TLSContextCache()
        let first = try cache.context(check: nil, nameKnown: true)
        let second = try cache.context(check: nil, nameKnown: false)
        #expect(first === second)
        #expect(cache.count == 1)
        _ = try cache.context(check: TLSCertificateCheck(trustRoots: nil), nameKnown: true)
        _ = try cache.context(check: TLSCertificateCheck(trustRoots: nil), nameKnown: false)
        _ = try cache.context(check: TLSCertificateCheck(trustRoots: nil), nameKnown: true)
        #expect(cache.count == 3)
    }
}
