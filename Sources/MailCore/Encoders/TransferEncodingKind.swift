/// The four RFC 2045 content-transfer-encodings that the encoders produce
/// (RFC 2045 §6.1: "7bit", "8bit", "quoted-printable", "base64"; "binary" is never chosen).
public enum TransferEncodingKind: String, Sendable, CaseIterable {
    case sevenBit = "7bit"
    case eightBit = "8bit"
    case quotedPrintable = "quoted-printable"
    case base64 = "base64"

    /// The header value as Courier writes it (always lower case).
    public var headerValue: String { rawValue }

    /// Looks up an encoding name exactly as written (callers lower-case it first if they want to).
    public init?(name bytes: some Collection<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let kind = TransferEncodingKind(rawValue: text) else { return nil }
        self = kind
    }
}

/// A streaming content-transfer encoder: feed chunks with `encode`, then call `finish` once.
/// 7bit and 8bit pass the bytes through unchanged, as Courier's encoder does.
public struct TransferEncoder: Sendable {
    private enum State: Sendable {
        case passThrough
        case quotedPrintable(QuotedPrintableEncoder)
        case base64(Base64Encoder)
    }

    private var state: State
    /// The encoding this encoder produces.
    public let kind: TransferEncodingKind

    public init(_ kind: TransferEncodingKind) {
        self.kind = kind
        switch kind {
        case .sevenBit, .eightBit: state = .passThrough
        case .quotedPrintable: state = .quotedPrintable(QuotedPrintableEncoder())
        case .base64: state = .base64(Base64Encoder())
        }
    }

    /// Encodes `input`, appending the encoded bytes to `output`.
    public mutating func encode(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        switch state {
        case .passThrough:
            output.append(contentsOf: input)
        case .quotedPrintable(var encoder):
            state = .passThrough
            encoder.encode(input, into: &output)
            state = .quotedPrintable(encoder)
        case .base64(var encoder):
            state = .passThrough
            encoder.encode(input, into: &output)
            state = .base64(encoder)
        }
    }

    /// Encodes a byte array or slice.
    public mutating func encode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) {
        input.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    /// Encodes a byte array.
    public mutating func encode(_ input: [UInt8], into output: inout [UInt8]) {
        input.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    /// Writes whatever the encoder still holds (the last base64 line).
    public mutating func finish(into output: inout [UInt8]) {
        switch state {
        case .passThrough:
            break
        case .quotedPrintable(var encoder):
            encoder.finish(into: &output)
            state = .quotedPrintable(encoder)
        case .base64(var encoder):
            encoder.finish(into: &output)
            state = .base64(encoder)
        }
    }
}
