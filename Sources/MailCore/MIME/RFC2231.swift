/// RFC 2231 parameter values: continuations (`name*0`, `name*1*`, …) are reassembled in
/// order, `%XX` is decoded in encoded segments, and the first encoded segment may carry
/// `charset'language'`. When both a plain `name` and RFC 2231 forms exist, the RFC 2231
/// forms win (Courier `rfc2231_paramDecode`).
public enum RFC2231 {
    public struct Value: Sendable, Equatable {
        public var charset: [UInt8]
        public var language: [UInt8]
        public var text: [UInt8]
    }

    /// Decodes parameter `name` (lowercase) from `parameters`; absent → empty text.
    public static func decode(_ parameters: MIMEParameters, name: String) -> Value {
        let key = Array(name.utf8)
        var segments: [(num: Int, encoded: Bool, value: [UInt8])] = []
        for item in parameters.items {
            let a = item.name
            guard a.count >= key.count, Array(a[0..<key.count]) == key else { continue }
            var num = 0
            if a.count > key.count {
                guard a[key.count] == UInt8(ascii: "*") else { continue }
                num = MIMEEntity.atoiValue(Array(a[(key.count + 1)...])) + 1
                if num <= 0 { num = 1 }
            }
            let encoded = a.last == UInt8(ascii: "*") && a.lastIndex(of: UInt8(ascii: "*")) == a.count - 1
            // Inserted after segments with a number not greater than its own.
            let at = segments.firstIndex { $0.num > num } ?? segments.count
            segments.insert((num, encoded, item.value), at: at)
        }
        if segments.count > 1 && segments[0].num == 0 { segments.removeFirst() }
        var result = Value(charset: [], language: [], text: [])
        let quote = UInt8(ascii: "'")
        for (k, seg) in segments.enumerated() {
            var p = 0
            let v = seg.value
            if k == 0 && seg.encoded, let q1 = v.firstIndex(of: quote), v[(q1 + 1)...].contains(quote) {
                result.charset = Array(v[0..<q1])
                guard let q2 = v[(q1 + 1)...].firstIndex(of: quote) else { break }
                result.language = Array(v[(q1 + 1)..<q2])
                p = q2 + 1
            }
            while p < v.count {
                if v[p] == UInt8(ascii: "%") && p + 2 < v.count + 0 && seg.encoded {
                    result.text.append(UInt8(truncatingIfNeeded: nybble(v[p + 1]) * 16 + nybble(v[p + 2])))
                    p += 3
                } else {
                    result.text.append(v[p])
                    p += 1
                }
            }
        }
        return result
    }

    static func nybble(_ c: UInt8) -> Int {
        RFC2231Hex.value(c)
    }

    /// Decodes and converts parameter `name` to `targetCharset` (Courier
    /// `rfc2231_udecodeType`/`Disposition`); nil when the conversion fails or loses text.
    public static func decodeForDisplay(_ parameters: MIMEParameters, name: String, targetCharset: String) -> [UInt8]? {
        let v = decode(parameters, name: name)
        var text = v.text
        if let nul = text.firstIndex(of: 0) { text.removeSubrange(nul...) }
        if v.charset.isEmpty { return text }
        guard let r = CharsetConverter.convert(text, from: String(decoding: v.charset, as: UTF8.self), to: targetCharset),
              !r.hadErrors else { return nil }
        return r.bytes
    }
}

enum RFC2231Hex {
    static func value(_ c: UInt8) -> Int {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A") + 10)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a") + 10)
        default: return 0
        }
    }
}
