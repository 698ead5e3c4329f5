/// IMAP's modified UTF-7 mailbox-name encoding (RFC 3501 §5.1.3).
///
/// Printable US-ASCII (0x20-0x7E) except `&` stands for itself; `&` is written `&-`; every other
/// character is written as UTF-16 in modified BASE64 (`,` instead of `/`, no `=` padding)
/// between `&` and `-`.
public enum ModifiedUTF7 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    private static let decodeTable: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    /// Encodes a Unicode name.
    public static func encode(_ name: String) -> String {
        var out: [UInt8] = []
        var pending: [UInt16] = []
        func flush() {
            if pending.isEmpty { return }
            out.append(UInt8(ascii: "&"))
            var bits: UInt32 = 0
            var count = 0
            for unit in pending {
                bits = (bits << 16) | UInt32(unit)
                count += 16
                while count >= 6 {
                    count -= 6
                    out.append(alphabet[Int((bits >> UInt32(count)) & 0x3F)])
                }
                bits &= (1 << UInt32(count)) - 1
            }
            // RFC 3501 §5.1.3: the last BASE64 character carries the leftover bits, zero padded.
            if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 0x3F)]) }
            out.append(UInt8(ascii: "-"))
            pending.removeAll()
        }
        for scalar in name.unicodeScalars {
            let v = scalar.value
            if v >= 0x20 && v <= 0x7E {
                flush()
                out.append(UInt8(v))
                if v == 0x26 { out.append(UInt8(ascii: "-")) }
            } else {
                if let units = UTF16.encode(scalar) { pending.append(contentsOf: units) }
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes modified UTF-7; nil if `bytes` are not valid modified UTF-7: raw bytes outside
    /// printable ASCII, a bad BASE64 character, an unterminated shift, leftover non-zero bits, an
    /// encoded printable ASCII character (RFC 3501 forbids it), or a broken surrogate pair.
    public static func decode<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        var out = String.UnicodeScalarView()
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let b = bytes[i]
            i = bytes.index(after: i)
            if b < 0x20 || b > 0x7E { return nil }
            if b != UInt8(ascii: "&") {
                out.append(Unicode.Scalar(b))
                continue
            }
            // "&-" is a literal "&".
            if i != bytes.endIndex, bytes[i] == UInt8(ascii: "-") {
                out.append("&")
                i = bytes.index(after: i)
                continue
            }
            var bits: UInt32 = 0
            var count = 0
            var units: [UInt16] = []
            var terminated = false
            while i != bytes.endIndex {
                let c = bytes[i]
                i = bytes.index(after: i)
                if c == UInt8(ascii: "-") { terminated = true; break }
                let v = decodeTable[Int(c)]
                if v < 0 { return nil }
                bits = (bits << 6) | UInt32(v)
                count += 6
                if count >= 16 {
                    count -= 16
                    units.append(UInt16((bits >> UInt32(count)) & 0xFFFF))
                    bits &= (1 << UInt32(count)) - 1
                }
            }
            if !terminated || units.isEmpty || count >= 6 || bits != 0 { return nil }
            var k = 0
            while k < units.count {
                let unit = UInt32(units[k])
                var value = unit
                if unit >= 0xD800 && unit <= 0xDBFF {
                    guard k + 1 < units.count else { return nil }
                    let low = UInt32(units[k + 1])
                    guard low >= 0xDC00 && low <= 0xDFFF else { return nil }
                    value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    k += 2
                } else if unit >= 0xDC00 && unit <= 0xDFFF {
                    return nil
                } else {
                    k += 1
                }
                // RFC 3501 §5.1.3: printable US-ASCII must not be BASE64 encoded.
                if value >= 0x20 && value <= 0x7E { return nil }
                guard let scalar = Unicode.Scalar(value) else { return nil }
                out.append(scalar)
            }
        }
        return String(out)
    }
}
