import MailCore
#if canImport(Glibc)
import Glibc
#endif

/// Expands mailbot's `-S` attribution template (spec/tools.md §2.1, as maildrop 2.9.3 does:
/// `%S` is not an escape there and prints `S`).
enum MailbotSalutation {
    struct Fields {
        var newsgroup: [UInt8] = []
        var messageID: [UInt8] = []
        var newsgroups: [UInt8] = []
        var address: [UInt8] = []
        var name: [UInt8] = []
        var date: [UInt8] = []
    }

    static func expand(_ template: [UInt8], _ f: Fields) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < template.count {
            let c = template[i]
            guard c == UInt8(ascii: "%"), i + 1 < template.count else {
                out.append(c)
                i += 1
                continue
            }
            let n = template[i + 1]
            i += 2
            switch n {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "C"): out.append(contentsOf: f.newsgroup)
            case UInt8(ascii: "N"): out.append(contentsOf: f.newsgroups)
            case UInt8(ascii: "i"): out.append(contentsOf: f.messageID)
            case UInt8(ascii: "f"): out.append(contentsOf: f.address)
            case UInt8(ascii: "F"): out.append(contentsOf: f.name)
            case UInt8(ascii: "d"): out.append(contentsOf: formatDate(f.date, Array("%a, %d %b %Y %H:%M:%S %z".utf8)))
            case UInt8(ascii: "{"):
                // %{strftime format}d
                var j = i
                while j < template.count, template[j] != UInt8(ascii: "}") { j += 1 }
                let fmt = Array(template[i..<min(j, template.count)])
                i = min(j + 1, template.count)
                if i < template.count, template[i] == UInt8(ascii: "d") { i += 1 }
                out.append(contentsOf: formatDate(f.date, fmt))
            default: out.append(n)
            }
        }
        return out
    }

    /// The original `Date:` in local time with a strftime format; the raw text if unparsable.
    static func formatDate(_ date: [UInt8], _ format: [UInt8]) -> [UInt8] {
        guard let parsed = RFC5322Date(parsing: date) else { return date }
        var t = time_t(parsed.epochSeconds)
        var tmValue = tm()
        guard localtime_r(&t, &tmValue) != nil else { return date }
        var buffer = [CChar](repeating: 0, count: 256)
        let fmt = format.map { CChar(bitPattern: $0) } + [0]
        let n = strftime(&buffer, buffer.count, fmt, &tmValue)
        return buffer[0..<n].map { UInt8(bitPattern: $0) }
    }
}
