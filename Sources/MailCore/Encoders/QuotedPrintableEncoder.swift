/// A streaming quoted-printable encoder (RFC 2045 §6.7) that produces exactly what
/// Courier's rfc2045 library writes (makemime, reformime -r7):
///
/// * LF is the line break and is copied; it resets the column count. A CR is not a line
///   break: it is encoded as `=0D` like any other control byte.
/// * Bytes below 0x20 (TAB included), `=` and bytes 0x7F and above become `=XX`
///   (upper-case hex), counting three columns (rule 1, rule 2).
/// * A space is held back until the next byte is known: before LF it becomes `=20`
///   (rule 3, no trailing white space), otherwise it is written as is. A space still
///   held back at the end of the input is dropped, as Courier does.
/// * Before a byte other than LF (and other than a space, which is only held back), a
///   soft line break `=`LF is written when the current line already has more than 72
///   columns (rule 5); so a line holds at most 75 characters plus the `=`, and long
///   runs of spaces are not broken.
public struct QuotedPrintableEncoder: Sendable {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Columns written on the current output line.
    private var column = 0
    /// A space was read and not written yet.
    private var heldSpace = false

    public init() {}

    /// Encodes `input`, appending to `output`.
    public mutating func encode(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let space = UInt8(ascii: " ")
        let newline = UInt8(ascii: "\n")
        let equals = UInt8(ascii: "=")
        for byte in input {
            if heldSpace {
                if byte == newline {
                    output.append(equals)
                    output.append(UInt8(ascii: "2"))
                    output.append(UInt8(ascii: "0"))
                } else {
                    output.append(space)
                }
                column += 1
                heldSpace = false
            }
            if byte == space {
                heldSpace = true
                continue
            }
            if column > 72 && byte != newline {
                output.append(equals)
                output.append(newline)
                column = 0
            }
            if byte == newline {
                column = 0
                output.append(newline)
            } else if byte < 0x20 || byte == equals || byte >= 0x7F {
                output.append(equals)
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0x0F)])
                column += 3
            } else {
                column += 1
                output.append(byte)
            }
        }
    }

    /// Encodes a byte array.
    public mutating func encode(_ input: [UInt8], into output: inout [UInt8]) {
        input.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    /// Encodes a slice.
    public mutating func encode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) {
        input.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    /// Ends the input. Courier writes nothing more: a held-back final space is dropped
    /// and no soft break or newline is added.
    public mutating func finish(into output: inout [UInt8]) {
        heldSpace = false
        column = 0
    }

    /// One-shot convenience: the whole encoding of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var encoder = QuotedPrintableEncoder()
        var output: [UInt8] = []
        encoder.encode(bytes, into: &output)
        encoder.finish(into: &output)
        return output
    }
}
