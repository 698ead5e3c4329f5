import Testing
@testable import ESMTPTransport

@Suite struct OutboundTLSVerificationTests {
    @Test func verificationFollowsCourierdAndTheSecurityRoute() {
        let off = OutboundTLSVerification([:])
        #expect(off.check(securityRoute: false) == nil)
        // /SECURITY=STARTTLS always checks (system CAs when nothing is configured).
        #expect(off.check(securityRoute: true) == TLSCertificateCheck(trustRoots: nil))

        let on = OutboundTLSVerification(["ESMTP_TLS_VERIFY_DOMAIN": "1", "TLS_TRUSTCERTS": "/etc/ca.pem"])
        #expect(on.check(securityRoute: false) == TLSCertificateCheck(trustRoots: "/etc/ca.pem"))
        #expect(on.check(securityRoute: true) == TLSCertificateCheck(trustRoots: "/etc/ca.pem"))

        let security = OutboundTLSVerification(["ESMTP_TLS_VERIFY_DOMAIN": "0", "TLS_TRUSTCERTS": "/etc/ca.pem",
                                                "TLS_TRUSTSECURITYCERTS": "/etc/private-ca"])
        #expect(security.check(securityRoute: false) == nil)
        #expect(security.check(securityRoute: true) == TLSCertificateCheck(trustRoots: "/etc/private-ca"))
        #expect(OutboundTLSVerification(["ESMTP_TLS_VERIFY_DOMAIN": "yes"]).verifyDomain == false)
        #expect(OutboundTLSVerification(["TLS_TRUSTCERTS": ""]).trustCertificates == nil)
    }

    /// TLS_VERIFYPEER=PEER checks the chain; the name only with ESMTP_TLS_VERIFY_DOMAIN=1.
    @Test func verifyPeerChecksTheChainOnly() {
        let peer = OutboundTLSVerification(["TLS_VERIFYPEER": "PEER", "TLS_TRUSTCERTS": "/etc/ca.pem"])
        #expect(peer.check(securityRoute: false) == TLSCertificateCheck(trustRoots: "/etc/ca.pem", checkName: false))
        #expect(OutboundTLSVerification(["TLS_VERIFYPEER": "requirepeer"]).verifyPeer)
        #expect(!OutboundTLSVerification(["TLS_VERIFYPEER": "NONE"]).verifyPeer)
        #expect(OutboundTLSVerification(["TLS_VERIFYPEER": "NONE"]).check(securityRoute: false) == nil)
        let both = OutboundTLSVerification(["TLS_VERIFYPEER": "PEER", "ESMTP_TLS_VERIFY_DOMAIN": "1"])
        #expect(both.check(securityRoute: false) == TLSCertificateCheck(trustRoots: nil))
        #expect(ESMTPConfiguration.load(etc: "/nonexistent", me: "me.example").preferIPv6)
    }

    @Test func courierdIsReadWithTheOtherControlFiles() throws {
        let dir = "/tmp/esmtp-tls-test-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdirAll(dir))
        defer { removeAll(dir) }
        try write(dir + "/courierd", "# courierd\nCERTS=/srv/certs\nESMTP_TLS_VERIFY_DOMAIN=1\nTLS_TRUSTCERTS=$CERTS/ca.pem\n")
        let config = ESMTPConfiguration.load(etc: dir, me: "me.example")
        #expect(config.tlsVerification.verifyDomain)
        #expect(config.tlsVerification.trustCertificates == "/srv/certs/ca.pem")
        #expect(ESMTPConfiguration.load(etc: dir + "/missing", me: "me.example").tlsVerification == OutboundTLSVerification())
    }
}
