/// Streaming base64 decoder with Courier's leniency (RFC 2045 §6.8): characters outside
/// the alphabet are skipped, `=` takes part in a quantum with the value 99 (so misplaced
/// padding yields garbage bytes, never an error), a quantum with `=` in its third or
/// fourth place emits fewer bytes, and an incomplete final quantum is dropped.
public struct Base64Decoder: Sendable {
    private var quantum: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
    private var isPad: (Bool, Bool) = (false, false)
    private var count = 0

    public init() {}

    /// The alphabet value of `c`, 99 for `=`, nil for characters that are skipped.
    @inline(__always)
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        case UInt8(ascii: "="): return 99
        default: return nil
        }
    }

    /// Decodes more input, appending bytes to `output`.
    public mutating func decode<C: Collection>(_ input: C, into output: inout [UInt8]) where C.Element == UInt8 {
        for c in input {
            guard let v = Self.value(c) else { continue }
            switch count {
            case 0: quantum.0 = v
            case 1: quantum.1 = v
            case 2: quantum.2 = v; isPad.0 = c == UInt8(ascii: "=")
            default:
                quantum.3 = v
                isPad.1 = c == UInt8(ascii: "=")
                let w = Int(quantum.0), x = Int(quantum.1), y = Int(quantum.2), z = Int(quantum.3)
                output.append(UInt8(truncatingIfNeeded: (w << 2) | (x >> 4)))
                if !isPad.0 { output.append(UInt8(truncatingIfNeeded: (x << 4) | (y >> 2))) }
                if !isPad.1 { output.append(UInt8(truncatingIfNeeded: (y << 6) | z)) }
                count = 0
                continue
            }
            count += 1
        }
    }

    /// Ends the input; an incomplete quantum is discarded.
    public mutating func finish(into output: inout [UInt8]) {
        count = 0
    }

    /// Decodes a whole buffer (a convenient, fuzzable entry point).
    public static func decode<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        var d = Base64Decoder()
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        d.decode(input, into: &out)
        d.finish(into: &out)
        return out
    }
}
