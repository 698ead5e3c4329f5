/// Courier's time intervals (`queuetime`, `warntime`, `retryalpha`, …; spec/mta.md §3.0):
/// `<integer><unit>` pieces, units `w` `d` `h` `m` `s` in either case, blanks allowed, summed
/// (`1w2d`); a final bare integer counts as seconds.
public enum IntervalParser {
    /// The interval in seconds, or nil when the text holds anything else. (Courier stops
    /// quietly at the first byte it does not know; we report it instead of guessing.)
    public static func seconds(_ text: String) -> Int? {
        var total = 0
        var number: Int?
        for byte in text.utf8 {
            if byte.isDigit {
                let digit = Int(byte - 0x30)
                let (times10, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                guard !overflow1, !overflow2, sum <= maxSeconds else { return nil }
                number = sum
                continue
            }
            if byte.isBlank { continue }
            guard let count = number, let unit = unitSeconds(byte) else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: unit)
            guard !overflow, product <= maxSeconds else { return nil }
            total += product
            guard total <= maxSeconds else { return nil }
            number = nil
        }
        if let count = number { total += count }
        guard total <= maxSeconds else { return nil }
        return total
    }

    /// One hundred years: anything longer is a typo.
    static let maxSeconds = 100 * 365 * 86_400

    static func unitSeconds(_ byte: UInt8) -> Int? {
        switch byte | 0x20 {   // lower case
        case UInt8(ascii: "w"): return 7 * 86_400
        case UInt8(ascii: "d"): return 86_400
        case UInt8(ascii: "h"): return 3_600
        case UInt8(ascii: "m"): return 60
        case UInt8(ascii: "s"): return 1
        default: return nil
        }
    }
}
