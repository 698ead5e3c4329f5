/// One record of the queue log (Docs/queue-format.md). Records are framed as
/// `"CQ"`, type (1 byte), 0 (1 byte), payload length (u32 LE), CRC-32 of type byte,
/// length and payload (u32 LE), then the payload.
public enum QueueRecord: Sendable, Equatable {
    /// A message accepted into the queue: envelope and bytes.
    case message(QueuedMessageHeader, body: [UInt8])
    /// The state after a delivery pass: attempts made, next attempt, per-recipient status.
    case state(QueueID, QueueState)
    /// Every recipient is final; the message is gone from the queue.
    case done(QueueID)
    /// A large message accepted into the queue whose bytes are in `spool/<file>` (written and
    /// fsynced, and the directory fsynced, before this record is appended).
    case spooled(QueuedMessageHeader, file: String, length: Int)

    static let magic: [UInt8] = [0x43, 0x51]
    static let headerSize = 12
    /// Records larger than this are corruption (sizelimit is far below it).
    static let maximumPayload = 1 << 31

    enum Kind: UInt8 {
        case message = 1
        case state = 2
        case done = 3
        case spooled = 4
    }

    /// The framed bytes of this record.
    public func encoded() -> [UInt8] {
        var payload = ByteWriter()
        let kind: Kind
        switch self {
        case let .message(header, body):
            kind = .message
            header.encode(into: &payload)
            payload.blob(body)
        case let .state(id, state):
            kind = .state
            payload.string(id.rawValue)
            state.encode(into: &payload)
        case let .done(id):
            kind = .done
            payload.string(id.rawValue)
        case let .spooled(header, file, length):
            kind = .spooled
            header.encode(into: &payload)
            payload.string(file)
            payload.i64(Int64(length))
        }
        return Self.frame(kind: kind, payload: payload.bytes)
    }

    static func frame(kind: Kind, payload: [UInt8]) -> [UInt8] {
        var framed = ByteWriter()
        framed.bytes.reserveCapacity(payload.count + headerSize)
        framed.bytes.append(contentsOf: magic)
        framed.u8(kind.rawValue)
        framed.u8(0)
        framed.u32(UInt32(truncatingIfNeeded: payload.count))
        var lengthBytes = ByteWriter()
        lengthBytes.u32(UInt32(truncatingIfNeeded: payload.count))
        var crc = CRC32.update(0, [kind.rawValue])
        crc = CRC32.update(crc, lengthBytes.bytes)
        crc = CRC32.update(crc, payload)
        framed.u32(crc)
        framed.bytes.append(contentsOf: payload)
        return framed.bytes
    }
}

/// A message's envelope and identity as stored in its `message` record.
public struct QueuedMessageHeader: Sendable, Equatable {
    public var id: QueueID
    /// Seconds since the epoch when it was accepted.
    public var submitted: Int64
    /// When undelivered recipients bounce (`submitted + queuetime`).
    public var expires: Int64
    public var envelope: QueueEnvelope

    public init(id: QueueID, submitted: Int64, expires: Int64, envelope: QueueEnvelope) {
        self.id = id
        self.submitted = submitted
        self.expires = expires
        self.envelope = envelope
    }

    func encode(into writer: inout ByteWriter) {
        writer.string(id.rawValue)
        writer.i64(submitted)
        writer.i64(expires)
        writer.string(envelope.sender)
        writer.u32(UInt32(truncatingIfNeeded: envelope.recipients.count))
        for recipient in envelope.recipients {
            writer.string(recipient.address)
            writer.u8(recipient.notify.rawValue)
            writer.optionalString(recipient.originalRecipient)
        }
        writer.u8(envelope.dsnReturn == .full ? 1 : envelope.dsnReturn == .headers ? 2 : 0)
        writer.optionalString(envelope.envelopeID)
        // bits 0-2: VERP, 8-bit, SMTPUTF8; 3-4: the source; 5-6: what a report reports on (+1);
        // 7: backscatter tracking (Courier's `T` record)
        writer.u8((envelope.verp ? 1 : 0) | (envelope.eightBit ? 2 : 0) | (envelope.smtputf8 ? 4 : 0)
                  | (envelope.source.rawValue & 3) << 3 | (envelope.reportOn.map { ($0.rawValue & 3) + 1 } ?? 0) << 5
                  | (envelope.tracked ? 0x80 : 0))
        writer.optionalString(envelope.clientAddress)
        writer.optionalString(envelope.heloName)
        writer.optionalString(envelope.authenticatedUser)
    }

    static func decode(from reader: inout ByteReader) -> QueuedMessageHeader? {
        guard let id = reader.string(), let submitted = reader.i64(), let expires = reader.i64(),
              let sender = reader.string(), let count = reader.u32(), Int(count) <= reader.remaining else { return nil }
        var recipients: [QueueRecipient] = []
        for _ in 0..<count {
            guard let address = reader.string(), let notify = reader.u8(),
                  let original = reader.optionalString() else { return nil }
            recipients.append(QueueRecipient(address: address, notify: DSNNotify(rawValue: notify),
                                             originalRecipient: original))
        }
        guard let ret = reader.u8(), let envelopeID = reader.optionalString(), let flags = reader.u8(),
              let client = reader.optionalString(), let helo = reader.optionalString(),
              let auth = reader.optionalString() else { return nil }
        var envelope = QueueEnvelope(
            sender: sender, recipients: recipients,
            dsnReturn: ret == 1 ? .full : ret == 2 ? .headers : nil, envelopeID: envelopeID,
            verp: flags & 1 != 0, eightBit: flags & 2 != 0, smtputf8: flags & 4 != 0,
            clientAddress: client, heloName: helo, authenticatedUser: auth)
        envelope.source = MessageSource(rawValue: (flags >> 3) & 3) ?? .other
        envelope.tracked = flags & 0x80 != 0
        let reported = (flags >> 5) & 3
        envelope.reportOn = reported == 0 ? nil : MessageSource(rawValue: reported - 1)
        return QueuedMessageHeader(id: QueueID(id), submitted: submitted, expires: expires, envelope: envelope)
    }
}

/// What one recipient's delivery came to so far.
public enum RecipientStatus: UInt8, Sendable, Equatable {
    case pending = 0
    case delivered = 1
    case failed = 2
}

/// The retry state of a message, rewritten after every delivery pass.
public struct QueueState: Sendable, Equatable {
    /// Completed delivery passes (Courier's `C` records).
    public var passes: Int
    /// Seconds since the epoch of the next attempt.
    public var nextAttempt: Int64
    public var recipients: [RecipientStatus]
    /// The delayed-mail warning (`warntime`) was sent or is not wanted: never send one again
    /// (Courier's `w` record, spec/mta.md §4.7).
    public var warned: Bool

    public init(passes: Int, nextAttempt: Int64, recipients: [RecipientStatus], warned: Bool = false) {
        self.passes = passes
        self.nextAttempt = nextAttempt
        self.recipients = recipients
        self.warned = warned
    }

    func encode(into writer: inout ByteWriter) {
        writer.u32(UInt32(truncatingIfNeeded: passes))
        writer.i64(nextAttempt)
        writer.u32(UInt32(truncatingIfNeeded: recipients.count))
        for status in recipients { writer.u8(status.rawValue) }
        // Flags (bit 1: warned). Records written before the flags existed end above.
        writer.u8(warned ? 1 : 0)
    }

    static func decode(from reader: inout ByteReader) -> QueueState? {
        guard let passes = reader.u32(), let next = reader.i64(), let count = reader.u32(),
              Int(count) <= reader.remaining else { return nil }
        var statuses: [RecipientStatus] = []
        for _ in 0..<count {
            guard let raw = reader.u8(), let status = RecipientStatus(rawValue: raw) else { return nil }
            statuses.append(status)
        }
        let flags = reader.remaining > 0 ? reader.u8() ?? 0 : 0
        return QueueState(passes: Int(passes), nextAttempt: next, recipients: statuses, warned: flags & 1 != 0)
    }
}

/// A record found in a log segment, with where a message's body lies in the segment.
public struct ScannedRecord: Sendable {
    public var record: ScannedRecordKind
    /// Offset of the record's first byte in the segment.
    public var offset: Int
    /// For messages: the body's byte range in the segment.
    public var bodyRange: Range<Int>?
}

/// A scanned record without its body bytes (recovery keeps only offsets).
public enum ScannedRecordKind: Sendable, Equatable {
    case message(QueuedMessageHeader)
    /// The body is the whole of `spool/<file>`.
    case spooled(QueuedMessageHeader, file: String, length: Int)
    case state(QueueID, QueueState)
    case done(QueueID)
}

/// Reads the records of one log segment (pure: bytes in, records out). Stops at the first
/// torn or corrupt record; everything from there on was never acknowledged.
public enum QueueLogParser {
    /// The valid records and the offset where the valid prefix ends.
    public static func parse(_ bytes: [UInt8]) -> (records: [ScannedRecord], validLength: Int) {
        var records: [ScannedRecord] = []
        var offset = 0
        while bytes.count - offset >= QueueRecord.headerSize {
            guard bytes[offset] == QueueRecord.magic[0], bytes[offset + 1] == QueueRecord.magic[1],
                  let kind = QueueRecord.Kind(rawValue: bytes[offset + 2]), bytes[offset + 3] == 0 else { break }
            var header = ByteReader(bytes[(offset + 4)..<(offset + 12)])
            guard let length = header.u32(), let crc = header.u32(), Int(length) <= QueueRecord.maximumPayload,
                  Int(length) <= bytes.count - offset - QueueRecord.headerSize else { break }
            let payloadStart = offset + QueueRecord.headerSize
            let payloadEnd = payloadStart + Int(length)
            var check = CRC32.update(0, bytes[(offset + 2)..<(offset + 3)])
            check = CRC32.update(check, bytes[(offset + 4)..<(offset + 8)])
            check = CRC32.update(check, bytes[payloadStart..<payloadEnd])
            guard check == crc else { break }
            var reader = ByteReader(bytes[payloadStart..<payloadEnd])
            let scanned: ScannedRecord?
            switch kind {
            case .message:
                if let header = QueuedMessageHeader.decode(from: &reader), let body = reader.blobRange() {
                    scanned = ScannedRecord(record: .message(header), offset: offset, bodyRange: body)
                } else {
                    scanned = nil
                }
            case .state:
                if let id = reader.string(), let state = QueueState.decode(from: &reader) {
                    scanned = ScannedRecord(record: .state(QueueID(id), state), offset: offset, bodyRange: nil)
                } else {
                    scanned = nil
                }
            case .done:
                scanned = reader.string().map {
                    ScannedRecord(record: .done(QueueID($0)), offset: offset, bodyRange: nil)
                }
            case .spooled:
                if let header = QueuedMessageHeader.decode(from: &reader), let file = reader.string(),
                   let length = reader.i64(), length >= 0, !file.contains("/"), !file.hasPrefix(".") {
                    scanned = ScannedRecord(record: .spooled(header, file: file, length: Int(length)), offset: offset,
                                            bodyRange: nil)
                } else {
                    scanned = nil
                }
            }
            guard let scanned else { break }
            records.append(scanned)
            offset = payloadEnd
        }
        return (records, offset)
    }
}
