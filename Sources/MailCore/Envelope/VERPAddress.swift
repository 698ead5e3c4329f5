/// Variable Envelope Return Paths as Courier forms them (spec/mta.md §2.10, "VERP"): the
/// sender `slocal@sdomain` of a message to `rlocal@rdomain` becomes
/// `slocal-rlocal=rdomain@sdomain`, with the recipient's special characters hex-escaped.
public enum VERPAddress {
    /// The per-recipient return path. The null sender stays null; a sender without `@` is
    /// used as it is (nothing to put the recipient in front of). The sender is split at its
    /// last `@`.
    public static func sender(_ sender: String, for recipient: String) -> String {
        let bytes = Array(sender.utf8)
        guard !bytes.isEmpty, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return sender }
        let out = Array(bytes[..<at]) + [UInt8(ascii: "-")] + encode(recipient) + Array(bytes[at...])
        return String(decoding: out, as: UTF8.self)
    }

    /// The recipient part: its last `@` becomes `=`; `@ : % ! + - [ ]` become `+` and two
    /// upper-case hex digits; `=` stays when an `@` follows it (it cannot be confused with the
    /// separator then), else it is escaped too (addresses without `@`, such as UUCP paths).
    public static func encode(_ recipient: String) -> [UInt8] {
        let bytes = Array(recipient.utf8)
        let lastAt = bytes.lastIndex(of: UInt8(ascii: "@"))
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        for (index, byte) in bytes.enumerated() {
            if index == lastAt {
                out.append(UInt8(ascii: "="))
                continue
            }
            let escape: Bool
            switch byte {
            case UInt8(ascii: "="):
                escape = lastAt.map { $0 < index } ?? true
            case UInt8(ascii: "@"), UInt8(ascii: ":"), UInt8(ascii: "%"), UInt8(ascii: "!"),
                 UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "["), UInt8(ascii: "]"):
                escape = true
            default:
                escape = false
            }
            if escape {
                out += [UInt8(ascii: "+"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                out.append(byte)
            }
        }
        return out
    }
}
