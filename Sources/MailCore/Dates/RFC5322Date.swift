/// A date-time of an Internet message (RFC 5322 §3.3): an instant plus the zone offset it was
/// written in. Parses the current and the obsolete syntax (RFC 5322 §4.3: two- and three-digit
/// years, named zones, missing seconds, comments, missing day of week) and formats the
/// current one. Pure arithmetic on bytes: no Foundation, no locale, no time-zone database.
public struct RFC5322Date: Equatable, Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var epochSeconds: Int64
    /// The zone offset in minutes east of UTC (`+0100` is 60).
    public var offsetMinutes: Int

    public init(epochSeconds: Int64, offsetMinutes: Int = 0) {
        self.epochSeconds = epochSeconds
        self.offsetMinutes = offsetMinutes
    }

    static let dayNames: [[UInt8]] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    static let monthNames: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// The broken-down local time in the date's own zone.
    public var components: CivilDateTime {
        CivilDateTime(epochSeconds: epochSeconds + Int64(offsetMinutes) * 60)
    }

    /// `Thu, 26 Nov 2026 17:36:45 +0000` (RFC 5322 §3.3 `date-time`).
    public var formatted: String {
        String(decoding: formattedBytes, as: UTF8.self)
    }

    /// The RFC 5322 form as bytes.
    public var formattedBytes: [UInt8] {
        let c = components
        var out: [UInt8] = []
        out.reserveCapacity(31)
        out += Self.dayNames[c.weekday]
        out += Array(", ".utf8)
        appendDecimal(&out, c.day, width: 1)
        out.append(0x20)
        out += Self.monthNames[c.month - 1]
        out.append(0x20)
        appendDecimal(&out, Int(c.year), width: 4)
        out.append(0x20)
        appendDecimal(&out, c.hour, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDecimal(&out, c.minute, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDecimal(&out, c.second, width: 2)
        out.append(0x20)
        let off = offsetMinutes
        out.append(off < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        appendDecimal(&out, abs(off) / 60, width: 2)
        appendDecimal(&out, abs(off) % 60, width: 2)
        return out
    }
}

/// A proleptic Gregorian calendar date and time of day, without a zone.
public struct CivilDateTime: Equatable, Sendable {
    public var year: Int64
    /// 1...12
    public var month: Int
    /// 1...31
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int

    public init(year: Int64, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        let days = CivilDateTime.daysFromCivil(year: year, month: month, day: day)
        self.weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
    }

    /// Breaks an epoch second count down (UTC).
    public init(epochSeconds: Int64) {
        var days = epochSeconds / 86_400
        var rem = epochSeconds % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let (y, m, d) = CivilDateTime.civilFromDays(days)
        self.year = y
        self.month = m
        self.day = d
        self.hour = Int(rem / 3600)
        self.minute = Int(rem % 3600 / 60)
        self.second = Int(rem % 60)
        self.weekday = Int(((days % 7) + 11) % 7)
    }

    /// Seconds since the epoch if this time is read as UTC.
    public var epochSeconds: Int64 {
        CivilDateTime.daysFromCivil(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
    public static func daysFromCivil(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `daysFromCivil`.
    public static func civilFromDays(_ days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d)
    }
}

@inline(__always)
func appendDecimal(_ out: inout [UInt8], _ value: Int, width: Int) {
    var digits: [UInt8] = []
    var v = value < 0 ? -value : value
    repeat {
        digits.append(UInt8(ascii: "0") + UInt8(v % 10))
        v /= 10
    } while v > 0
    if value < 0 { out.append(UInt8(ascii: "-")) }
    if digits.count < width {
        out += [UInt8](repeating: UInt8(ascii: "0"), count: width - digits.count)
    }
    out += digits.reversed()
}

#if canImport(Glibc)
import Glibc
#endif

extension RFC5322Date {
    /// The current time, in UTC.
    public static func now() -> RFC5322Date {
        RFC5322Date(epochSeconds: Int64(time(nil)))
    }
}
