import Testing
@testable import DNS

/// Hand-built wire messages (RFC 1035 §4.1) and what the decoder makes of them.
struct DNSCodecTests {
    /// A reply to `example.com MX` with two MX records whose names use compression pointers.
    static let mxReply: [UInt8] = [
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        // question: example.com MX IN (offset 12)
        7, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 3, 0x63, 0x6F, 0x6D, 0, 0x00, 0x0F, 0x00, 0x01,
        // answer 1: ptr to 12, MX, IN, ttl 300, rdlength 9: pref 10, "mx1" + ptr 12
        0xC0, 12, 0x00, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C, 0x00, 0x08, 0x00, 10, 3, 0x6D, 0x78, 0x31, 0xC0, 12,
        // answer 2: pref 20, "mx2" + ptr 12
        0xC0, 12, 0x00, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x08, 0x00, 20, 3, 0x6D, 0x78, 0x32, 0xC0, 12,
    ]

    @Test func decodesCompressedMXReply() throws {
        let message = try DNSDecoder.decode(Self.mxReply)
        #expect(message.header.id == 0x1234)
        #expect(message.header.isResponse)
        #expect(message.header.recursionAvailable)
        #expect(message.header.responseCode == .noError)
        #expect(message.questions == [DNSQuestion(name: DNSName("example.com")!, type: .mx)])
        #expect(message.answers.count == 2)
        #expect(message.answers[0].ttl == 300)
        #expect(message.answers[0].data == .mx(preference: 10, exchange: DNSName("mx1.example.com")!))
        #expect(message.answers[1].data == .mx(preference: 20, exchange: DNSName("mx2.example.com")!))
        #expect(message.answers[1].name.description == "example.com")
    }

    @Test func queryEncodingMatchesRFC1035Layout() throws {
        let query = DNSEncoder.query(id: 0xBEEF, name: DNSName("Example.COM.")!, type: .aaaa)
        #expect(query == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                          7, 0x45, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 3, 0x43, 0x4F, 0x4D, 0, 0, 28, 0, 1])
    }

    @Test func queryWithEDNS0CarriesOPTRecord() throws {
        let query = DNSEncoder.query(id: 1, name: DNSName("a.b")!, type: .txt, udpPayloadSize: 1232)
        let decoded = try DNSDecoder.decode(query)
        #expect(decoded.header.additionalCount == 1)
        #expect(decoded.additionals.first?.type == .opt)
        #expect(decoded.additionals.first?.recordClass == 1232)
        #expect(decoded.additionals.first?.name.isRoot == true)
        // OPT: root name (1) + type, class, ttl, rdlength (10) = 11 bytes after the question.
        #expect(Array(query.suffix(11)) == [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
    }

    @Test func allRecordTypesRoundTrip() throws {
        let owner = DNSName("host.example")!
        let message = DNSMessage(
            header: DNSHeader(id: 7, isResponse: true, isTruncated: true, authenticData: true, responseCode: .nameError),
            questions: [DNSQuestion(name: owner, type: .a)],
            answers: [
                DNSResourceRecord(name: owner, type: .a, ttl: 1, data: .a([192, 0, 2, 1])),
                DNSResourceRecord(name: owner, type: .aaaa, ttl: 2, data: .aaaa([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])),
                DNSResourceRecord(name: owner, type: .cname, ttl: 3, data: .cname(DNSName("other.example")!)),
                DNSResourceRecord(name: owner, type: .ptr, ttl: 4, data: .ptr(DNSName("p.example")!)),
                DNSResourceRecord(name: owner, type: .txt, ttl: 5, data: .txt([Array("v=spf1 -all".utf8), []])),
                DNSResourceRecord(name: owner, type: DNSRecordType(rawValue: 99), ttl: 6, data: .other([1, 2, 3])),
            ])
        let decoded = try DNSDecoder.decode(DNSEncoder.encode(message))
        #expect(decoded.answers == message.answers)
        #expect(decoded.header.isTruncated)
        #expect(decoded.header.authenticData)
        #expect(decoded.header.responseCode == .nameError)
    }

    @Test func addressText() {
        #expect(DNSAddressText.ipv4([127, 0, 0, 1]) == "127.0.0.1")
        #expect(DNSAddressText.ipv6([UInt8](repeating: 0, count: 15) + [1]) == "::1")
        #expect(DNSAddressText.ipv6([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]) == "2001:db8::1:0:0:1")
        #expect(DNSAddressText.ipv6([0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]) == "2001:db8:1:1:1:1:1:1")
        #expect(DNSAddressText.ipv6([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]) == "2001:db8:0:1:1:1:1:1")
    }

    @Test func namesCompareWithoutCaseAndEscapeOddBytes() {
        #expect(DNSName("MX.Example.org") == DNSName("mx.example.org."))
        #expect(DNSName("a..b") == nil)
        #expect(DNSName(String(repeating: "x", count: 64)) == nil)
        #expect(DNSName(Array(repeating: "abcdefghi", count: 26).joined(separator: ".")) == nil)
        #expect(DNSName(".")?.isRoot == true)
        #expect(DNSName(labels: [[0x61, 0x2E, 0x20]])?.description == "a\\046\\032")
    }
}
