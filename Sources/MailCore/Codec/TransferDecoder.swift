/// Decodes a body according to its `Content-Transfer-Encoding` (lowercased):
/// `quoted-printable` and `base64` are decoded, anything else (7bit, 8bit, binary,
/// x-uuencode, unknown) is passed through unchanged, as Courier 2.9.3 does.
public struct TransferDecoder: Sendable {
    enum Kind: Sendable { case raw, qp(QuotedPrintableDecoder), base64(Base64Decoder) }
    private var kind: Kind

    public init(encoding: [UInt8]?) {
        if encoding == Array("quoted-printable".utf8) {
            kind = .qp(QuotedPrintableDecoder())
        } else if encoding == Array("base64".utf8) {
            kind = .base64(Base64Decoder())
        } else {
            kind = .raw
        }
    }

    public var isRaw: Bool { if case .raw = kind { return true } else { return false } }

    public mutating func decode<C: Collection>(_ input: C, into output: inout [UInt8]) where C.Element == UInt8 {
        switch kind {
        case .raw: output.append(contentsOf: input)
        case .qp(var d): kind = .raw; d.decode(input, into: &output); kind = .qp(d)
        case .base64(var d): d.decode(input, into: &output); kind = .base64(d)
        }
    }

    public mutating func finish(into output: inout [UInt8]) {
        switch kind {
        case .raw: break
        case .qp(var d): kind = .raw; d.finish(into: &output); kind = .qp(d)
        case .base64(var d): d.finish(into: &output); kind = .base64(d)
        }
    }

    /// Decodes `bytes[range]` in `chunkSize` pieces (Courier reads 8 KiB at a time),
    /// handing each decoded piece to `sink`. Returns false if `sink` asked to stop.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, encoding: [UInt8]?, chunkSize: Int = 8192,
                              sink: (inout [UInt8]) -> Bool) -> Bool {
        var d = TransferDecoder(encoding: encoding)
        var out: [UInt8] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let j = min(i + chunkSize, range.upperBound)
            d.decode(UnsafeBufferPointer(rebasing: bytes[i..<j]), into: &out)
            if !out.isEmpty {
                if !sink(&out) { return false }
                out.removeAll(keepingCapacity: true)
            }
            i = j
        }
        d.finish(into: &out)
        if !out.isEmpty { return sink(&out) }
        return true
    }
}
