#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// maildrop's string/number rules (tools.md §1.5): every value is a string; arithmetic reads
/// the leading number as C `atof` does and prints with `%.22g`.
enum MaildropValue {
    static func number(_ s: String) -> Double {
        s.withCString { atof($0) }
    }

    static func format(_ d: Double) -> String {
        // Whole numbers print as their digits under %.22g: skip vsnprintf (its first use costs
        // a CVarArg conformance lookup of ~300,000 instructions, a fifth of a delivery).
        if d == d.rounded(.towardZero), abs(d) < 1e15, !(d == 0 && d.sign == .minus) {
            return String(Int64(d))
        }
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { args in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%.22g", args) }
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Empty or `0` (surrounding blanks ignored) is false.
    static func isTrue(_ s: String) -> Bool {
        var bytes = Array(s.utf8)[...]
        while let f = bytes.first, f == 0x20 || f == 0x09 || f == 0x0A || f == 0x0D { bytes = bytes.dropFirst() }
        while let l = bytes.last, l == 0x20 || l == 0x09 || l == 0x0A || l == 0x0D { bytes = bytes.dropLast() }
        return !(bytes.isEmpty || (bytes.count == 1 && bytes.first == UInt8(ascii: "0")))
    }

    static func integer(_ s: String) -> Int {
        s.withCString { atol($0) }
    }

    static func unsigned(_ s: String) -> UInt {
        let d = number(s)
        guard d.isFinite else { return 0 }
        if d < 0 { return UInt(bitPattern: Int(max(d, -9.2e18))) }
        return d >= 1.8e19 ? UInt.max : UInt(d)
    }

    static func bool(_ b: Bool) -> String { b ? "1" : "0" }

    /// `echo` and `log`: `\n \r \t \f \v`, `\ooo` octal, other `\x` gives `x`; a trailing
    /// `\c` suppresses the newline.
    static func escapes(_ s: String) -> (bytes: [UInt8], newline: Bool) {
        let input = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        var newline = true
        while i < input.count {
            let c = input[i]
            guard c == UInt8(ascii: "\\"), i + 1 < input.count else {
                out.append(c)
                i += 1
                continue
            }
            let d = input[i + 1]
            i += 2
            switch d {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "c"):
                if i >= input.count { newline = false } else { out.append(d) }
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(d - 0x30)
                var digits = 1
                while digits < 3, i < input.count, input[i] >= 0x30, input[i] <= 0x37 {
                    value = value * 8 + Int(input[i] - 0x30)
                    i += 1
                    digits += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            default: out.append(d)
            }
        }
        return (out, newline)
    }
}
