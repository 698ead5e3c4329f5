// Decoding DNS messages from the wire (RFC 1035 §4.1), for bytes from the network: every
// read is bounds-checked, compression pointers must point backwards (so they cannot loop) and
// names stay within 255 bytes; anything else is a `DNSDecodingError`, never a trap.

/// Why a message could not be decoded.
public enum DNSDecodingError: Error, Hashable, Sendable {
    /// The message ends inside the header, a name, a record or its data.
    case truncated
    /// A compression pointer that points at or after itself, or past the end (RFC 1035 §4.1.4).
    case badPointer
    /// A label type other than a plain length or a pointer (the 0x40/0x80 prefixes).
    case badLabel
    /// A name longer than 255 bytes (RFC 1035 §2.3.4).
    case nameTooLong
    /// Record data whose length does not fit its type (an A record that is not 4 bytes…).
    case badRecordData(DNSRecordType)
    /// A section count the message cannot hold (each entry needs bytes).
    case badCount
}

/// Decodes a message; pure, so it is unit-tested and fuzzed without sockets.
public enum DNSDecoder {
    public static func decode(_ bytes: [UInt8]) throws(DNSDecodingError) -> DNSMessage {
        var reader = DNSReader(bytes: bytes)
        let header = try reader.readHeader()
        // Each question takes at least 5 bytes and each record at least 11: a count larger than
        // the message allows is rejected before anything is reserved for it.
        let minimum = Int(header.questionCount) * 5
            + (Int(header.answerCount) + Int(header.authorityCount) + Int(header.additionalCount)) * 11
        guard minimum <= bytes.count - 12 else { throw .badCount }
        var questions: [DNSQuestion] = []
        for _ in 0..<header.questionCount {
            let name = try reader.readName()
            let type = try reader.readUInt16()
            let recordClass = try reader.readUInt16()
            questions.append(DNSQuestion(name: name, type: DNSRecordType(rawValue: type), recordClass: recordClass))
        }
        let answers = try reader.readRecords(Int(header.answerCount))
        let authorities = try reader.readRecords(Int(header.authorityCount))
        let additionals = try reader.readRecords(Int(header.additionalCount))
        return DNSMessage(header: header, questions: questions, answers: answers,
                          authorities: authorities, additionals: additionals)
    }

    /// The TC bit of a message's header (RFC 1035 §4.1.1), read without decoding the rest.
    public static func isTruncated(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 12 && bytes[2] & 0x02 != 0
    }

    /// The id of a message, or nil when it is shorter than a header (for matching replies).
    public static func messageID(_ bytes: [UInt8]) -> UInt16? {
        guard bytes.count >= 12 else { return nil }
        return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }
}

/// A bounds-checked cursor over a whole message (names need the whole message for pointers).
struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func readUInt8() throws(DNSDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(DNSDecodingError) -> UInt16 {
        guard bytes.count - offset >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() throws(DNSDecodingError) -> UInt32 {
        let high = try readUInt16()
        let low = try readUInt16()
        return UInt32(high) << 16 | UInt32(low)
    }

    mutating func readBytes(_ count: Int) throws(DNSDecodingError) -> [UInt8] {
        guard count >= 0, bytes.count - offset >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func readHeader() throws(DNSDecodingError) -> DNSHeader {
        let id = try readUInt16()
        let flags = try readUInt16()
        return DNSHeader(
            id: id,
            isResponse: flags & 0x8000 != 0,
            opcode: UInt8((flags >> 11) & 0x0F),
            isAuthoritative: flags & 0x0400 != 0,
            isTruncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0,
            recursionAvailable: flags & 0x0080 != 0,
            authenticData: flags & 0x0020 != 0,
            responseCode: DNSResponseCode(rawValue: UInt8(flags & 0x000F)),
            questionCount: try readUInt16(),
            answerCount: try readUInt16(),
            authorityCount: try readUInt16(),
            additionalCount: try readUInt16())
    }

    /// RFC 1035 §4.1.4: labels, possibly ending in a pointer to an earlier name. Each pointer
    /// must point strictly before the label that holds it, so following them always ends.
    mutating func readName() throws(DNSDecodingError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = offset
        var resumeAt: Int?
        while true {
            guard position < bytes.count else { throw .truncated }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    offset = resumeAt ?? position + 1
                    return DNSName(uncheckedLabels: labels)
                }
                let count = Int(length)
                guard bytes.count - (position + 1) >= count else { throw .truncated }
                wireLength += count + 1
                guard wireLength <= DNSName.maximumWireLength else { throw .nameTooLong }
                labels.append(Array(bytes[(position + 1)...(position + count)]))
                position += count + 1
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position else { throw .badPointer }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
            default:
                throw .badLabel
            }
        }
    }

    mutating func readRecords(_ count: Int) throws(DNSDecodingError) -> [DNSResourceRecord] {
        var records: [DNSResourceRecord] = []
        for _ in 0..<count { records.append(try readRecord()) }
        return records
    }

    mutating func readRecord() throws(DNSDecodingError) -> DNSResourceRecord {
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16())
        let recordClass = try readUInt16()
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        guard bytes.count - offset >= length else { throw .truncated }
        let end = offset + length
        let data = try readRecordData(type: type, end: end)
        guard offset == end else { throw .badRecordData(type) }
        return DNSResourceRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    /// RFC 1035 §3.3 (CNAME, PTR, MX, TXT), §3.4.1 (A), RFC 3596 §2.2 (AAAA).
    mutating func readRecordData(type: DNSRecordType, end: Int) throws(DNSDecodingError) -> DNSRecordData {
        switch type {
        case .a:
            guard end - offset == 4 else { throw .badRecordData(type) }
            return .a(try readBytes(4))
        case .aaaa:
            guard end - offset == 16 else { throw .badRecordData(type) }
            return .aaaa(try readBytes(16))
        case .cname, .ptr:
            let name = try readName()
            guard offset <= end else { throw .badRecordData(type) }
            return type == .cname ? .cname(name) : .ptr(name)
        case .mx:
            guard end - offset >= 3 else { throw .badRecordData(type) }
            let preference = try readUInt16()
            let exchange = try readName()
            guard offset <= end else { throw .badRecordData(type) }
            return .mx(preference: preference, exchange: exchange)
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(try readUInt8())
                guard end - offset >= count else { throw .badRecordData(type) }
                strings.append(try readBytes(count))
            }
            guard !strings.isEmpty else { throw .badRecordData(type) }
            return .txt(strings)
        default:
            return .other(try readBytes(end - offset))
        }
    }
}
