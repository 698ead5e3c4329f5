import Testing
@testable import ESMTPTransport

@Suite struct ReverseHeloNameTests {
    @Test func ptrNameOrBracketedAddress() {
        #expect(ReverseHeloName.name(ptr: "out.example.test.", localAddress: "192.0.2.1") == "out.example.test")
        #expect(ReverseHeloName.name(ptr: nil, localAddress: "192.0.2.1") == "[192.0.2.1]")
        #expect(ReverseHeloName.name(ptr: ".", localAddress: "192.0.2.1") == "[192.0.2.1]")
        // Spec §3.11: an IPv4-mapped address is written as IPv4; IPv6 as it is.
        #expect(ReverseHeloName.name(ptr: nil, localAddress: "::ffff:192.0.2.7") == "[192.0.2.7]")
        #expect(ReverseHeloName.name(ptr: nil, localAddress: "2001:db8::1") == "[2001:db8::1]")
    }

    @Test func starInEsmtpheloMeansReverseDNS() throws {
        let dir = "/tmp/esmtp-helo-test-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdirAll(dir))
        defer { removeAll(dir) }
        try write(dir + "/esmtphelo", "*\n")
        let config = ESMTPConfiguration.load(etc: dir, me: "me.example")
        #expect(config.heloFromReverseDNS)
        #expect(config.heloName == "me.example")
        try write(dir + "/esmtphelo", "out.example\n")
        #expect(!ESMTPConfiguration.load(etc: dir, me: "me.example").heloFromReverseDNS)
    }
}
