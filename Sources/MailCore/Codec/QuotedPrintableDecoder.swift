/// Streaming quoted-printable decoder with Courier's leniency (RFC 2045 §6.7):
/// `=XX` (either case) is a byte; `=` followed by whitespace or the end of the buffered
/// text drops the rest of that text (a soft line break, or trailing garbage); `=` followed
/// by a non-hex character is dropped and the character kept (`=ZZ` → `ZZ`); `=4Z` → `Z`.
///
/// Courier decodes line by line, and a pending text longer than 1024 bytes is decoded in
/// pieces (keeping a possible `=XX` whole); the piece boundaries depend on how input is fed,
/// so feed it as Courier reads it (8 KiB chunks) for byte-exact results on long lines.
public struct QuotedPrintableDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func decode<C: Collection>(_ input: C, into output: inout [UInt8]) where C.Element == UInt8 {
        for c in input {
            pending.append(c)
            if c == 0x0A {
                Self.decodeLine(pending, into: &output)
                pending.removeAll(keepingCapacity: true)
            }
        }
        if pending.count > 1024 {
            var keepFrom = pending.count
            for i in (pending.count - 5)..<pending.count where pending[i] == UInt8(ascii: "=") {
                keepFrom = i
                break
            }
            let kept = Array(pending[keepFrom...])
            pending.removeSubrange(keepFrom...)
            Self.decodeLine(pending, into: &output)
            pending = kept
        }
    }

    public mutating func finish(into output: inout [UInt8]) {
        Self.decodeLine(pending, into: &output)
        pending.removeAll()
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Courier's `do_decode_qp` over one buffered piece.
    static func decodeLine(_ text: [UInt8], into output: inout [UInt8]) {
        let end = text.count
        var a = 0
        while a < end {
            if text[a] != UInt8(ascii: "=") {
                output.append(text[a])
                a += 1
                continue
            }
            a += 1
            if a >= end || text[a] == 0 || MIMEHeaderTokenizer.isSpace(text[a]) { break }
            guard let hi = hexValue(text[a]) else { continue }
            a += 1
            if a >= end || text[a] == 0 { break }
            guard let lo = hexValue(text[a]) else { continue }
            a += 1
            output.append(hi << 4 | lo)
        }
    }

    /// Decodes a whole buffer, fed in Courier's 8 KiB reads (fuzzable entry point).
    public static func decode(_ input: [UInt8]) -> [UInt8] {
        var d = QuotedPrintableDecoder()
        var out: [UInt8] = []
        var i = 0
        while i < input.count {
            let j = min(i + 8192, input.count)
            d.decode(input[i..<j], into: &out)
            i = j
        }
        d.finish(into: &out)
        return out
    }
}
