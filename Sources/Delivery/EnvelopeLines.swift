#if canImport(Glibc)
import Glibc
#endif
import MailQueue

/// Courier's three envelope lines of a local delivery (spec/mta.md §5.2.2 step 4).
struct EnvelopeLines {
    var fromLine: String
    var deliveredTo: String
    var returnPath: String

    init(sender: String, recipient: String, time seconds: Int64) {
        var clock = time_t(seconds)
        var parts = tm()
        gmtime_r(&clock, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
        let date = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        fromLine = "From " + (sender.isEmpty ? "MAILER-DAEMON" : sender) + " " + date
        deliveredTo = "Delivered-To: " + recipient
        returnPath = "Return-Path: <" + sender + ">"
    }
}

/// Looks at the header section of a message without parsing all of it.
enum HeaderScan {
    /// Whether a `Delivered-To:` header (name case-insensitive) equals `recipient` exactly.
    static func hasDeliveredTo(_ message: [UInt8], recipient: String) -> Bool {
        let wanted = Array(recipient.utf8)
        var start = 0
        while start < message.count {
            let end = message[start...].firstIndex(of: 0x0A) ?? message.count
            var line = message[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { return false }
            let name = Array("delivered-to:".utf8)
            if line.count >= name.count, zip(line.prefix(name.count), name).allSatisfy({ lower($0) == $1 }) {
                let value = line.dropFirst(name.count).drop { $0 == 0x20 || $0 == 0x09 }
                var trimmed = Array(value)
                while let last = trimmed.last, last == 0x20 || last == 0x09 { trimmed.removeLast() }
                if trimmed == wanted { return true }
            }
            start = end + 1
        }
        return false
    }

    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
}

/// A name part that identifies one delivery of one queued message to one recipient and
/// instruction, so a delivery repeated after a crash can be recognised (exactly once).
enum DeliveryToken {
    static func make(_ request: DeliveryRequest, instruction: Int) -> String {
        let id = request.header.id.rawValue.filter { $0.isHexDigit }
        return "q" + id + "r" + String(request.recipientIndex) + "i" + String(instruction)
    }
}
