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
        var index = line.startIndex
        let end = line.endIndex
        while index < end {
            let a = line[index]
            let b: UInt8 = index + 1 < end ? line[index + 1] : 0
            let c: UInt8 = index + 2 < end ? line[index + 2] : 0
            output.append(alphabet[Int(a >> 2)])
            output.append(alphabet[Int(((a & 0x03) << 4) | (b >> 4))])
            output.append(index + 1 < end ? alphabet[Int(((b & 0x0F) << 2) | (c >> 6))] : UInt8(ascii: "="))
            output.append(index + 2 < end ? alphabet[Int(c & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        output.append(UInt8(ascii: "\n"))
    }
}
