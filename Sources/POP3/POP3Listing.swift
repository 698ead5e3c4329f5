import Synchronization

/// One opened maildrop listing (spec/access.md §3.3) and its whole-maildrop LIST and UIDL
/// answers. `POP3OpenCache` hands the same listing to every login while the maildrop is
/// unchanged, so the 10,000-line answers are built once and shared by all those sessions
/// (a session answers from here only while it has deleted nothing).
public final class POP3Listing: Sendable {
    public let messages: [POP3Message]
    /// STAT's numbers for the listing as opened: messages not marked deleted, their bytes.
    public let liveCount: Int
    public let liveBytes: Int64
    private let replies = Mutex<(list: [UInt8]?, uidl: [UInt8]?)>((nil, nil))

    /// The size list could not be written: the listing is Courier's disk-full recovery.
    public let sizeListSaveFailed: Bool

    public init(messages: [POP3Message], sizeListSaveFailed: Bool = false) {
        self.messages = messages
        self.sizeListSaveFailed = sizeListSaveFailed
        var count = 0
        var bytes: Int64 = 0
        for message in messages where !message.deleted {
            count += 1
            bytes &+= message.size
        }
        liveCount = count
        liveBytes = bytes
    }

    /// `LIST` without an argument, with no message deleted (RFC 1939 §5).
    public var listReply: [UInt8] {
        if let made = replies.withLock({ $0.list }) { return made }
        let made = POP3ListingWriter.list(messages)
        replies.withLock { $0.list = made }
        return made
    }

    /// `UIDL` without an argument, with no message deleted (RFC 1939 §7).
    public var uidlReply: [UInt8] {
        if let made = replies.withLock({ $0.uidl }) { return made }
        let made = POP3ListingWriter.uidl(messages)
        replies.withLock { $0.uidl = made }
        return made
    }
}

/// Writes LIST and UIDL answers straight as bytes: `<number> <value>` CRLF per live message
/// (numbers are positions in the maildrop, so deleted ones leave gaps), `.` CRLF at the end.
enum POP3ListingWriter {
    static func list(_ messages: [POP3Message]) -> [UInt8] {
        var out = POP3Replies.line(POP3Replies.listFollows)
        out.reserveCapacity(out.count + messages.count * 14 + 3)
        for index in messages.indices where !messages[index].deleted {
            appendDecimal(UInt64(index + 1), to: &out)
            out.append(UInt8(ascii: " "))
            appendDecimal(UInt64(max(messages[index].size, 0)), to: &out)
            out.append(13)
            out.append(10)
        }
        out.append(contentsOf: [UInt8(ascii: "."), 13, 10])
        return out
    }

    static func uidl(_ messages: [POP3Message]) -> [UInt8] {
        var out = POP3Replies.line("+OK")
        out.reserveCapacity(out.count + messages.count * 24 + 3)
        for index in messages.indices where !messages[index].deleted {
            appendDecimal(UInt64(index + 1), to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: messages[index].uidl.utf8)
            out.append(13)
            out.append(10)
        }
        out.append(contentsOf: [UInt8(ascii: "."), 13, 10])
        return out
    }

    /// `value` in decimal ASCII.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        guard value >= 10 else {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while rest > 0 {
                raw[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for position in stride(from: count - 1, through: 0, by: -1) { out.append(raw[position]) }
        }
    }
}
