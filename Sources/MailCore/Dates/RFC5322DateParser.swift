extension RFC5322Date {
    /// Parses a `Date:` header value (RFC 5322 §3.3 and the obsolete forms of §4.3), leniently as
    /// mail readers do: the day of week is optional and not checked, comments are skipped,
    /// seconds are optional, two-digit years are 19xx/20xx (§4.3: < 50 is 20xx), three-digit
    /// years add 1900, named zones (UT, GMT, EST…PDT, military letters) are understood and an
    /// unknown zone counts as +0000 (§4.3). Returns nil when no date can be found.
    public init?(parsing value: some Collection<UInt8>) {
        var tokens = DateTokenizer(Array(value)).tokens()
        guard !tokens.isEmpty else { return nil }
        // Optional "day-of-week ,"
        if case .word(let w) = tokens[0], RFC5322Date.dayIndex(w) != nil {
            tokens.removeFirst()
            if let f = tokens.first, f == .comma { tokens.removeFirst() }
        }
        var i = 0
        func next() -> DateToken? {
            guard i < tokens.count else { return nil }
            defer { i += 1 }
            return tokens[i]
        }
        // day month year, or (some broken mailers) month day year
        guard let t1 = next(), let t2 = next() else { return nil }
        var day: Int
        var month: Int
        switch (t1, t2) {
        case (.number(let d, _), .word(let m)):
            guard let mi = RFC5322Date.monthIndex(m) else { return nil }
            day = d; month = mi
        case (.word(let m), .number(let d, _)):
            guard let mi = RFC5322Date.monthIndex(m) else { return nil }
            day = d; month = mi
        default:
            return nil
        }
        guard case .number(var year, let yearDigits)? = next() else { return nil }
        if yearDigits <= 2 { year += year < 50 ? 2000 : 1900 } else if yearDigits == 3 { year += 1900 }
        // time: hour ":" minute [ ":" second ]
        guard case .number(let hour, _)? = next(), next() == .colon,
              case .number(let minute, _)? = next() else { return nil }
        var second = 0
        if i < tokens.count, tokens[i] == .colon {
            i += 1
            guard case .number(let s, _)? = next() else { return nil }
            second = s
        }
        guard (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
              (0...60).contains(second), (0...9999).contains(year) else { return nil }
        var offset = 0
        if let zone = next() {
            switch zone {
            case .offset(let minutes): offset = minutes
            case .word(let name): offset = RFC5322Date.namedZoneOffset(name) ?? 0
            default: offset = 0
            }
        }
        let civil = CivilDateTime(year: Int64(year), month: month, day: day,
                                  hour: hour, minute: minute, second: min(second, 59))
        let epoch = civil.epochSeconds - Int64(offset) * 60 + (second == 60 ? 1 : 0)
        // A leap second at the end of 9999 would roll into year 10000, which has no 4-digit form.
        guard second < 60 || CivilDateTime(epochSeconds: epoch + Int64(offset) * 60).year <= 9999 else { return nil }
        self.init(epochSeconds: epoch, offsetMinutes: offset)
    }

    static func lowercased(_ w: [UInt8]) -> [UInt8] {
        w.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    static func monthIndex(_ w: [UInt8]) -> Int? {
        guard w.count >= 3 else { return nil }
        let p = lowercased(Array(w.prefix(3)))
        for (n, name) in monthNames.enumerated() where lowercased(name) == p { return n + 1 }
        return nil
    }

    static func dayIndex(_ w: [UInt8]) -> Int? {
        guard w.count >= 3 else { return nil }
        let p = lowercased(Array(w.prefix(3)))
        for (n, name) in dayNames.enumerated() where lowercased(name) == p { return n }
        return nil
    }

    /// RFC 5322 §4.3 obs-zone; military zones other than Z are ambiguous and count as +0000.
    static func namedZoneOffset(_ w: [UInt8]) -> Int? {
        switch String(decoding: lowercased(w), as: UTF8.self) {
        case "ut", "utc", "gmt", "z": return 0
        case "edt": return -4 * 60
        case "est", "cdt": return -5 * 60
        case "cst", "mdt": return -6 * 60
        case "mst", "pdt": return -7 * 60
        case "pst": return -8 * 60
        default: return nil
        }
    }
}

enum DateToken: Equatable {
    case word([UInt8])
    case number(Int, digits: Int)
    case offset(Int)
    case comma
    case colon
}

/// Splits a date value into words, numbers, zone offsets and punctuation; skips comments.
struct DateTokenizer {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func tokens() -> [DateToken] {
        var out: [DateToken] = []
        var i = 0
        let n = bytes.count
        while i < n, out.count < 32 {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "("):
                var depth = 0
                while i < n {
                    if bytes[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if bytes[i] == UInt8(ascii: "(") { depth += 1 }
                    if bytes[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                    i += 1
                }
            case UInt8(ascii: ","):
                out.append(.comma); i += 1
            case UInt8(ascii: ":"):
                out.append(.colon); i += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                var j = i + 1
                var v = 0
                while j < n, j - i <= 4, bytes[j] >= 48, bytes[j] <= 57 { v = v * 10 + Int(bytes[j] - 48); j += 1 }
                if j - i == 5 {
                    // An offset past 23:59 (hours > 23 or minutes > 59) counts as +0000, as in
                    // Courier's rfc822_parsedt; it could not be written back as `+HHMM` either.
                    let minutes = v > 2359 || v % 100 > 59 ? 0 : (v / 100) * 60 + v % 100
                    out.append(.offset(c == UInt8(ascii: "-") ? -minutes : minutes))
                }
                i = max(j, i + 1)
            case 48...57:
                var j = i
                var v = 0
                while j < n, bytes[j] >= 48, bytes[j] <= 57 {
                    if j - i < 9 { v = v * 10 + Int(bytes[j] - 48) }
                    j += 1
                }
                out.append(.number(v, digits: j - i))
                i = j
            case 65...90, 97...122:
                var j = i
                while j < n, (bytes[j] >= 65 && bytes[j] <= 90) || (bytes[j] >= 97 && bytes[j] <= 122) { j += 1 }
                out.append(.word(Array(bytes[i..<j])))
                i = j
            default:
                i += 1
            }
        }
        return out
    }
}
