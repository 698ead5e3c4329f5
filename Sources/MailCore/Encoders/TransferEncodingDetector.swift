/// Picks a content-transfer-encoding for some content the way Courier's rfc2045 library
/// does (makemime without `-e`, `reformime -r7/-r8`). Feed the content in chunks with
/// `scan`, then read `encoding` and `isBinary`.
///
/// Rules (Courier `libmail_encode_autodetect`):
/// * A NUL byte makes the content binary: `base64`, and the scan may stop.
/// * Every byte below 0x20 or from 0x80 up, other than TAB, CR and LF, is an 8-bit byte
///   and counts as three columns (the width of its `=XX` form).
/// * A line longer than 990 columns is long (RFC 5322 §2.1.1 allows 998 octets).
/// * Long lines, or `preferSevenBit`: `base64` when the 8-bit bytes are more than a tenth
///   of all bytes, else `quoted-printable`. Otherwise `8bit` if there is any 8-bit byte,
///   else `7bit`.
public struct TransferEncodingDetector: Sendable {
    /// RFC 5322 §2.1.1 keeps lines under 998 octets; Courier flags lines over 990 columns.
    public static let longLineColumns = 990

    /// Whether the result must be 7-bit safe (quoted-printable or base64 only).
    public let preferSevenBit: Bool
    /// A NUL byte was seen: the content is binary and the decision is final.
    public private(set) var isBinary = false

    private var column = 0
    private var hasLongLine = false
    private var byteCount = 0
    private var eightBitCount = 0

    public init(preferSevenBit: Bool = false) {
        self.preferSevenBit = preferSevenBit
    }

    /// True once more input cannot change the result.
    public var isDecided: Bool { isBinary }

    /// Scans the next chunk of content.
    public mutating func scan(_ input: UnsafeBufferPointer<UInt8>) {
        if isBinary { return }
        for byte in input {
            byteCount += 1
            column += 1
            if byte < 0x20 || byte >= 0x80 {
                if byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") && byte != UInt8(ascii: "\n") {
                    eightBitCount += 1
                    column += 2
                }
            }
            if byte == 0 {
                isBinary = true
                return
            }
            if byte == UInt8(ascii: "\n") {
                column = 0
            } else if column > Self.longLineColumns {
                hasLongLine = true
            }
        }
    }

    /// Scans a byte array.
    public mutating func scan(_ input: [UInt8]) {
        input.withUnsafeBufferPointer { scan($0) }
    }

    /// The encoding for everything scanned so far.
    public var encoding: TransferEncodingKind {
        if isBinary { return .base64 }
        if preferSevenBit || hasLongLine {
            return eightBitCount > byteCount / 10 ? .base64 : .quotedPrintable
        }
        return eightBitCount > 0 ? .eightBit : .sevenBit
    }

    /// One-shot convenience over a whole buffer.
    public static func detect(_ bytes: [UInt8], preferSevenBit: Bool = false) -> (encoding: TransferEncodingKind, isBinary: Bool) {
        var detector = TransferEncodingDetector(preferSevenBit: preferSevenBit)
        detector.scan(bytes)
        return (detector.encoding, detector.isBinary)
    }
}
