#if canImport(Glibc)
import Glibc
#endif

/// The `Received:` trace header (RFC 5321 §4.4, spec/mta.md §2.13) the server puts first.
enum ReceivedHeader {
    static func make(helo: String?, clientIP: String, me: String, extended: Bool, tls: Bool,
                     authenticatedUser: String?, smtputf8: Bool, date: String) -> String {
        // RFC 3848 protocol types.
        var with = extended ? "ESMTP" : "SMTP"
        if tls { with += "S" }
        if authenticatedUser != nil { with += "A" }
        if smtputf8 { with = "UTF8" + with.dropFirst(extended ? 1 : 0) }
        var header = "Received: from \(helo ?? "unknown") ([\(clientIP)])\n"
        var comments: [String] = []
        if let authenticatedUser { comments.append("AUTH: \(authenticatedUser)") }
        if tls { comments.append("TLS") }
        if !comments.isEmpty { header += "  (\(comments.joined(separator: ", ")))\n" }
        header += "  by \(me) with \(with); \(date)\n"
        return header
    }

    /// RFC 5322 §3.3 date in UTC: `Thu, 26 Nov 2026 19:00:00 +0000`.
    static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = days[Int(parts.tm_wday) % 7]
        let month = months[Int(parts.tm_mon) % 12]
        return "\(day), \(parts.tm_mday) \(month) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
