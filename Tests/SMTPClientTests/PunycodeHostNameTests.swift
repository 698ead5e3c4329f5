import Testing
@testable import SMTPClient

@Suite struct PunycodeHostNameTests {
    /// RFC 3492 §7.1 samples and well-known IDNs.
    @Test(arguments: [
        ("bücher.example", "xn--bcher-kva.example"),
        ("MÜNCHEN.test", "xn--mnchen-3ya.test"),
        ("mail.example.test", "mail.example.test"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("ドメイン名例", "xn--eckwd4c7cu47r2wf"),
        ("mañana.com", "xn--maana-pta.com"),
    ])
    func encodesLabels(name: String, expected: String) {
        #expect(PunycodeHostName.ascii(name) == expected)
    }

    @Test func rfc3492SampleArabic() {
        // RFC 3492 §7.1 (A) Arabic (Egyptian).
        let scalars: [UInt32] = [0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645,
                                 0x0648, 0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F]
        #expect(PunycodeHostName.encode(scalars) == "egbpdaj6bu4bxfgehfvwxn")
    }

    /// RFC 3492 §6.4: a label whose deltas do not fit 32 bits is refused (nil), not a trap;
    /// the EHLO name then stays as written.
    @Test func overflowIsRefusedNotATrap() {
        let hostile = [UInt32](repeating: 0x80, count: 5_000) + [UInt32](repeating: 0x10FFFF, count: 5_000)
        #expect(PunycodeHostName.encode(hostile) == nil)
        let name = String(repeating: "\u{80}", count: 5_000) + String(repeating: "\u{10FFFF}", count: 5_000) + ".example"
        #expect(PunycodeHostName.ascii(name) == nil)
        #expect(PunycodeHostName.ascii("a..b.") == "a..b.")
    }
}
