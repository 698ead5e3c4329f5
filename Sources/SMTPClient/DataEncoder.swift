/// The DATA payload (RFC 5321 §4.1.1.4, §4.5.2): every line ends in CRLF (bare LF and bare CR
/// become CRLF), a line starting with `.` gets another `.`, a missing final line break is
/// added, and `.` CRLF ends it.
public enum DataEncoder {
    public static func encode(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 40 + 8)
        var atLineStart = true
        var index = 0
        while index < body.count {
            let byte = body[index]
            index += 1
            if byte == 13 || byte == 10 {
                if byte == 13, index < body.count, body[index] == 10 { index += 1 }
                out += [13, 10]
                atLineStart = true
                continue
            }
            if atLineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            atLineStart = false
        }
        if !atLineStart { out += [13, 10] }
        out += [UInt8(ascii: "."), 13, 10]
        return out
    }
}
