#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `ctime(3)`-style dates, as mbox `From ` lines carry them: `Thu Jan  1 00:00:00 1970`
/// (C `asctime` format `%.3s %.3s%3d %.2d:%.2d:%.2d %d`), in local time (`TZ`).
public enum CTimeFormat {
    private static let days: [String] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months: [String] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The broken-down fields of a date, independent of the time zone machinery.
    public struct Fields: Sendable, Equatable {
        public var year: Int
        /// 0 = January.
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
        /// 0 = Sunday.
        public var weekday: Int

        public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
            self.year = year
            self.month = month
            self.day = day
            self.hour = hour
            self.minute = minute
            self.second = second
            self.weekday = weekday
        }
    }

    /// Formats `fields` as `asctime` does, without the trailing newline.
    public static func format(_ fields: Fields) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: (days.indices.contains(fields.weekday) ? days[fields.weekday] : "???").utf8)
        out.append(0x20)
        out.append(contentsOf: (months.indices.contains(fields.month) ? months[fields.month] : "???").utf8)
        out.append(contentsOf: pad(fields.day, width: 3, fill: 0x20))
        out.append(0x20)
        out.append(contentsOf: pad(fields.hour, width: 2, fill: 0x30))
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: pad(fields.minute, width: 2, fill: 0x30))
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: pad(fields.second, width: 2, fill: 0x30))
        out.append(0x20)
        out.append(contentsOf: String(fields.year).utf8)
        return out
    }

    /// The local-time fields of `time` (seconds since the epoch), or nil if the C library
    /// cannot represent it.
    public static func localFields(_ time: Int) -> Fields? {
        var t = time_t(time)
        var tm = tm()
        guard localtime_r(&t, &tm) != nil else { return nil }
        return Fields(year: Int(tm.tm_year) + 1900, month: Int(tm.tm_mon), day: Int(tm.tm_mday),
                      hour: Int(tm.tm_hour), minute: Int(tm.tm_min), second: Int(tm.tm_sec),
                      weekday: Int(tm.tm_wday))
    }

    /// `ctime(time)` without the trailing newline, in local time.
    public static func ctime(_ time: Int) -> [UInt8] {
        guard let f = localFields(time) else { return [] }
        return format(f)
    }

    /// `ctime(now)` without the trailing newline.
    public static func now() -> [UInt8] {
        var t = time_t()
        _ = time(&t)
        return ctime(Int(t))
    }

    private static func pad(_ value: Int, width: Int, fill: UInt8) -> [UInt8] {
        let digits = Array(String(value).utf8)
        if digits.count >= width { return digits }
        return [UInt8](repeating: fill, count: width - digits.count) + digits
    }
}
