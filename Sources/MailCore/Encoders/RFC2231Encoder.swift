/// Encodes a MIME parameter value per RFC 2231 the way Courier's `rfc2231_attrCreate` does.
///
/// * A value with no special byte whose name and value together are shorter than 75
///   characters is written as one quoted parameter: `name="value"`.
/// * Otherwise the value becomes `charset'language'` followed by the value with every
///   special byte written as `%XX` (upper-case hex; RFC 2231 §4), and that text is split
///   into sections `name*0*`, `name*1*`, … (RFC 2231 §3) of about 70 characters each,
///   never splitting a `%XX` escape.
/// * Special bytes: `( ) ' " \ % : ; =`, space and control bytes, and bytes from 0x7F up.
///   Other punctuation (`* / ? @ , < > [ ]`) is kept as is.
public enum RFC2231Encoder {
    /// One `attribute=value` pair to put after `;` in a header.
    public struct Parameter: Equatable, Sendable {
        public var name: [UInt8]
        public var value: [UInt8]

        public init(name: [UInt8], value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    /// Courier refuses parameter names longer than this.
    public static let maximumNameLength = 60
    /// Target length of `name*N*=` plus its section.
    static let sectionWidth = 70

    /// True if `byte` must be percent-encoded.
    public static func needsEncoding(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "'"), UInt8(ascii: "\""),
             UInt8(ascii: "\\"), UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return byte <= 0x20 || byte >= 0x7F
        }
    }

    /// The parameters that carry `value` under `name`, in order; nil when the name is
    /// longer than `maximumNameLength`.
    public static func parameters(name: [UInt8], value: [UInt8], charset: [UInt8], language: [UInt8] = []) -> [Parameter]? {
        if name.count > maximumNameLength { return nil }
        if !value.contains(where: needsEncoding) && name.count + value.count < 75 {
            return [Parameter(name: name, value: [UInt8(ascii: "\"")] + value + [UInt8(ascii: "\"")])]
        }
        var text = charset
        text.append(UInt8(ascii: "'"))
        text.append(contentsOf: language)
        text.append(UInt8(ascii: "'"))
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for byte in value {
            if needsEncoding(byte) {
                text.append(UInt8(ascii: "%"))
                text.append(hex[Int(byte >> 4)])
                text.append(hex[Int(byte & 0x0F)])
            } else {
                text.append(byte)
            }
        }
        return sections(name: name, text: text)
    }

    /// Splits the encoded text into `name*N*` sections.
    private static func sections(name: [UInt8], text: [UInt8]) -> [Parameter] {
        var result: [Parameter] = []
        var start = 0
        var number = 0
        let percent = UInt8(ascii: "%")
        while start < text.count {
            var sectionName = name
            sectionName.append(UInt8(ascii: "*"))
            sectionName.append(contentsOf: String(number).utf8)
            sectionName.append(UInt8(ascii: "*"))
            number += 1
            let remaining = text.count - start
            var length = remaining
            if sectionWidth > sectionName.count && remaining > sectionWidth - sectionName.count {
                length = sectionWidth - sectionName.count
            }
            // Keep a %XX escape in one section.
            if start + length < text.count && text[start + length] == percent {
                length += 3
            } else if length > 0 && text[start + length - 1] == percent {
                length += 2
            } else if length > 1 && text[start + length - 2] == percent {
                length += 1
            }
            length = max(1, min(length, remaining))
            result.append(Parameter(name: sectionName, value: Array(text[start..<(start + length)])))
            start += length
        }
        return result
    }
}
