// Encoding DNS messages (RFC 1035 §4.1): queries for the resolver, and whole messages (used by
// the tests to build answers, with uncompressed names).

/// Builds wire messages; pure.
public enum DNSEncoder {
    /// A standard query (RFC 1035 §4.1.1: QR=0, OPCODE=0, RD=1) for one question. With
    /// `udpPayloadSize` an EDNS0 OPT record (RFC 6891 §6.1.2) advertises that UDP size.
    public static func query(id: UInt16, name: DNSName, type: DNSRecordType,
                             udpPayloadSize: UInt16? = nil) -> [UInt8] {
        var message = DNSMessage(header: DNSHeader(id: id, recursionDesired: true),
                                 questions: [DNSQuestion(name: name, type: type)])
        if let udpPayloadSize {
            // RFC 6891 §6.1.2: owner root, CLASS = payload size, TTL = extended rcode/version/flags.
            message.additionals.append(DNSResourceRecord(name: .root, type: .opt, recordClass: udpPayloadSize,
                                                         ttl: 0, data: .other([])))
        }
        return encode(message)
    }

    /// The whole message; the header's counts are taken from the sections.
    public static func encode(_ message: DNSMessage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        let header = message.header
        appendUInt16(header.id, to: &out)
        var flags: UInt16 = UInt16(header.opcode & 0x0F) << 11 | UInt16(header.responseCode.rawValue & 0x0F)
        if header.isResponse { flags |= 0x8000 }
        if header.isAuthoritative { flags |= 0x0400 }
        if header.isTruncated { flags |= 0x0200 }
        if header.recursionDesired { flags |= 0x0100 }
        if header.recursionAvailable { flags |= 0x0080 }
        if header.authenticData { flags |= 0x0020 }
        appendUInt16(flags, to: &out)
        appendUInt16(UInt16(clamping: message.questions.count), to: &out)
        appendUInt16(UInt16(clamping: message.answers.count), to: &out)
        appendUInt16(UInt16(clamping: message.authorities.count), to: &out)
        appendUInt16(UInt16(clamping: message.additionals.count), to: &out)
        for question in message.questions {
            question.name.encode(into: &out)
            appendUInt16(question.type.rawValue, to: &out)
            appendUInt16(question.recordClass, to: &out)
        }
        for record in message.answers + message.authorities + message.additionals {
            encode(record, into: &out)
        }
        return out
    }

    static func encode(_ record: DNSResourceRecord, into out: inout [UInt8]) {
        record.name.encode(into: &out)
        appendUInt16(record.type.rawValue, to: &out)
        appendUInt16(record.recordClass, to: &out)
        appendUInt16(UInt16(truncatingIfNeeded: record.ttl >> 16), to: &out)
        appendUInt16(UInt16(truncatingIfNeeded: record.ttl), to: &out)
        var data: [UInt8] = []
        switch record.data {
        case .a(let bytes), .aaaa(let bytes), .other(let bytes):
            data = bytes
        case .cname(let name), .ptr(let name):
            name.encode(into: &data)
        case .mx(let preference, let exchange):
            appendUInt16(preference, to: &data)
            exchange.encode(into: &data)
        case .txt(let strings):
            for string in strings {
                let piece = string.prefix(255)
                data.append(UInt8(piece.count))
                data.append(contentsOf: piece)
            }
        }
        appendUInt16(UInt16(clamping: data.count), to: &out)
        out.append(contentsOf: data.prefix(Int(UInt16.max)))
    }

    static func appendUInt16(_ value: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(value >> 8))
        out.append(UInt8(value & 0xFF))
    }
}
