/// A host name in ASCII-compatible encoding (RFC 5890 A-labels, RFC 3492 Punycode), as Courier
/// sends its `esmtphelo` name (spec/mta.md §3.11): every label with a non-ASCII character
/// becomes `xn--` + Punycode of its lower-cased form; ASCII labels are kept as written.
/// Not a full IDNA2008 implementation (no mapping tables beyond Unicode lower-casing, no
/// validity checks): enough for an EHLO name the site chose itself.
public enum PunycodeHostName {
    /// `bücher.example` → `xn--bcher-kva.example`; nil when a label cannot be encoded.
    public static func ascii(_ name: String) -> String? {
        var labels: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.unicodeScalars.allSatisfy({ $0.isASCII }) {
                labels.append(String(label))
            } else {
                guard let encoded = encode(Array(label.lowercased().unicodeScalars.map(\.value))) else { return nil }
                labels.append("xn--" + encoded)
            }
        }
        return labels.joined(separator: ".")
    }

    // RFC 3492 §5 parameters.
    static let base: UInt32 = 36, tMin: UInt32 = 1, tMax: UInt32 = 26, skew: UInt32 = 38, damp: UInt32 = 700
    static let initialBias: UInt32 = 72, initialN: UInt32 = 128

    /// RFC 3492 §6.3 encoding of one label's code points; nil on overflow.
    static func encode(_ input: [UInt32]) -> String? {
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = UInt32(output.count)
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = initialN, delta: UInt32 = 0, bias = initialBias
        var handled = basicCount
        let total = UInt32(input.count)
        while handled < total {
            guard let m = input.filter({ $0 >= n }).min() else { return nil }
            let (step, overflow1) = (m - n).multipliedReportingOverflow(by: handled + 1)
            let (sum, overflow2) = delta.addingReportingOverflow(step)
            guard !overflow1, !overflow2 else { return nil }
            delta = sum
            n = m
            for c in input {
                if c < n {
                    let (next, overflow) = delta.addingReportingOverflow(1)
                    guard !overflow else { return nil }
                    delta = next
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            let (next, overflow) = delta.addingReportingOverflow(1)
            guard !overflow else { return nil }
            delta = next
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func digit(_ d: UInt32) -> UInt8 {
        d < 26 ? UInt8(ascii: "a") + UInt8(d) : UInt8(ascii: "0") + UInt8(d - 26)
    }

    /// RFC 3492 §6.1 bias adaptation.
    static func adapt(_ delta: UInt32, _ numPoints: UInt32, _ firstTime: Bool) -> UInt32 {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k: UInt32 = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
