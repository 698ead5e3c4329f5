import Testing
@testable import DNS

/// Replies a hostile or broken server could send: each must be an error, never a trap or a hang.
struct HostilePacketTests {
    static func header(questions: UInt16 = 1, answers: UInt16 = 0) -> [UInt8] {
        [0, 1, 0x81, 0x80, UInt8(questions >> 8), UInt8(questions & 0xFF), UInt8(answers >> 8), UInt8(answers & 0xFF), 0, 0, 0, 0]
    }

    @Test func pointerToItselfIsRejected() {
        #expect(throws: DNSDecodingError.badPointer) { try DNSDecoder.decode(Self.header() + [0xC0, 12, 0, 1, 0, 1]) }
    }

    @Test func pointerLoopBetweenTwoNamesIsRejected() {
        // Name at 12 is "a" + pointer to 17; name at 17 points back to 12: forward pointer refused.
        let bytes = Self.header() + [1, 0x61, 0xC0, 17, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSDecodingError.badPointer) { try DNSDecoder.decode(bytes) }
    }

    @Test func pointerPastTheEndIsRejected() {
        #expect(throws: DNSDecodingError.badPointer) { try DNSDecoder.decode(Self.header() + [0xFF, 0xFF, 0, 1, 0, 1]) }
    }

    @Test func truncatedHeaderAndName() {
        #expect(throws: DNSDecodingError.truncated) { try DNSDecoder.decode([0, 1, 0x81]) }
        #expect(throws: DNSDecodingError.truncated) { try DNSDecoder.decode(Self.header() + [5, 0x61, 0x62, 0, 0, 0]) }
        #expect(throws: DNSDecodingError.truncated) { try DNSDecoder.decode(Self.header() + [1, 0x61, 0, 0, 1, 0]) }
    }

    @Test func reservedLabelTypesAreRejected() {
        #expect(throws: DNSDecodingError.badLabel) { try DNSDecoder.decode(Self.header() + [0x41, 0, 0, 1, 0, 1]) }
        #expect(throws: DNSDecodingError.badLabel) { try DNSDecoder.decode(Self.header() + [0x80, 0, 0, 1, 0, 1]) }
    }

    @Test func nameLongerThan255BytesThroughPointersIsRejected() {
        // Five 63-byte labels chained backwards by pointers: 320 bytes of name.
        var bytes = Self.header(questions: 5)
        var previous: Int?
        for _ in 0..<5 {
            let start = bytes.count
            bytes += [63] + [UInt8](repeating: 0x61, count: 63)
            if let previous { bytes += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)] } else { bytes += [0] }
            bytes += [0, 1, 0, 1]
            previous = start
        }
        #expect(throws: DNSDecodingError.nameTooLong) { try DNSDecoder.decode(bytes) }
    }

    @Test func hugeCountsAreRejectedBeforeAllocating() {
        #expect(throws: DNSDecodingError.badCount) { try DNSDecoder.decode(Self.header(questions: 0xFFFF, answers: 0xFFFF)) }
    }

    @Test func recordDataOfWrongLength() {
        let question: [UInt8] = [1, 0x61, 0, 0, 1, 0, 1]
        let badA: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3]
        #expect(throws: DNSDecodingError.badRecordData(.a)) { try DNSDecoder.decode(Self.header(answers: 1) + question + badA) }
        // rdlength says 4 but the message ends after 2.
        let short: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2]
        #expect(throws: DNSDecodingError.truncated) { try DNSDecoder.decode(Self.header(answers: 1) + question + short) }
        // A TXT string whose length runs past its rdata.
        let badTXT: [UInt8] = [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 0x61, 0]
        #expect(throws: DNSDecodingError.badRecordData(.txt)) { try DNSDecoder.decode(Self.header(answers: 1) + question + badTXT) }
        // An MX whose exchange name runs past rdlength into the next bytes.
        let badMX: [UInt8] = [0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 1, 0, 3, 0, 10, 1, 0x62, 0]
        #expect(throws: DNSDecodingError.badRecordData(.mx)) { try DNSDecoder.decode(Self.header(answers: 1) + question + badMX) }
    }

    @Test func everyPrefixOfAGoodReplyFailsCleanly() {
        let reply = DNSCodecTests.mxReply
        for length in 0..<reply.count {
            #expect(throws: DNSDecodingError.self) { try DNSDecoder.decode(Array(reply.prefix(length))) }
        }
    }
}
