/// A streaming base64 encoder with Courier's layout (RFC 2045 §6.8): 57 input bytes
/// per line, so every line but the last holds 76 characters; `=` padding; each line,
/// the last one included, ends with a bare LF. Empty input produces no output at all.
public struct Base64Encoder: Sendable {
    /// Input bytes per output line (57 bytes become 76 characters).
    public static let bytesPerLine = 57

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Bytes of the current line not yet written (fewer than `bytesPerLine`).
    private var pending: [UInt8] = []

    public init() {
        pending.reserveCapacity(Self.bytesPerLine)
    }

    /// Encodes `input`, appending complete lines to `output`.
    public mutating func encode(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        var index = 0
        let count = input.count
        // Complete a partly filled line first.
        if !pending.isEmpty {
            while index < count && pending.count < Self.bytesPerLine {
                pending.append(input[index])
                index += 1
            }
            if pending.count < Self.bytesPerLine { return }
            pending.withUnsafeBufferPointer { Self.appendLine($0[...], to: &output) }
            pending.removeAll(keepingCapacity: true)
        }
        // Whole lines straight from the input.
        while count - index >= Self.bytesPerLine {
            Self.appendLine(input[index..<(index + Self.bytesPerLine)], to: &output)
            index += Self.bytesPerLine
        }
        while index < count {
            pending.append(input[index])
            index += 1
        }
    }

    /// Encodes a byte array.
    public mutating func encode(_ input: [UInt8], into output: inout [UInt8]) {
        input.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    /// Writes the last, possibly padded, line.
    public mutating func finish(into output: inout [UInt8]) {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBufferPointer { Self.appendLine($0[...], to: &output) }
        pending.removeAll(keepingCapacity: true)
    }

    /// One-shot convenience: the whole encoding of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var encoder = Base64Encoder()
        var output: [UInt8] = []
        encoder.encode(bytes, into: &output)
        encoder.finish(into: &output)
        return output
    }

    /// Encodes up to `bytesPerLine` bytes as one line followed by LF.
    private static func appendLine(_ line: Slice<UnsafeBufferPointer<UInt8>>, to output: inout [UInt8]) {
        let count = line.count
        let start = output.count
        // Each 3 input bytes give 4 characters; then the line break.
        output.append(contentsOf: repeatElement(0, count: (count + 2) / 3 * 4 + 1))
        let input = UnsafeBufferPointer(rebasing: line)
        alphabet.withUnsafeBufferPointer { abc in
            output.withUnsafeMutableBufferPointer { out in
                var o = start
                var i = 0
                while count - i >= 3 {
                    let a = input[i], b = input[i + 1], c = input[i + 2]
                    out[o] = abc[Int(a >> 2)]
                    out[o + 1] = abc[Int(((a & 0x03) << 4) | (b >> 4))]
                    out[o + 2] = abc[Int(((b & 0x0F) << 2) | (c >> 6))]
                    out[o + 3] = abc[Int(c & 0x3F)]
                    o += 4
                    i += 3
                }
                if count - i > 0 {
                    let a = input[i]
                    let b: UInt8 = count - i > 1 ? input[i + 1] : 0
                    out[o] = abc[Int(a >> 2)]
                    out[o + 1] = abc[Int(((a & 0x03) << 4) | (b >> 4))]
                    out[o + 2] = count - i > 1 ? abc[Int((b & 0x0F) << 2)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                    o += 4
                }
                out[o] = UInt8(ascii: "\n")
            }
        }
    }
}
