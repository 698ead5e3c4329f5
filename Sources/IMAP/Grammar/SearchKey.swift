/// A calendar date in SEARCH (RFC 3501 §9 `date`): day, month 1-12, year.
public struct IMAPDate: Hashable, Sendable, Comparable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public static func < (a: IMAPDate, b: IMAPDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
}

/// search-key (RFC 3501 §6.4.4, RFC 9051 §6.4.4, RFC 7162 MODSEQ).
public indirect enum SearchKey: Hashable, Sendable {
    case all
    case flag(Flag, set: Bool)
    case bcc([UInt8]), cc([UInt8]), from([UInt8]), to([UInt8]), subject([UInt8])
    case body([UInt8]), text([UInt8])
    case header([UInt8], [UInt8])
    case before(IMAPDate), on(IMAPDate), since(IMAPDate)
    case sentBefore(IMAPDate), sentOn(IMAPDate), sentSince(IMAPDate)
    case larger(UInt32), smaller(UInt32)
    case new, old, recent
    case sequence(SequenceSet)
    case uid(SequenceSet)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])
    case modSeq(UInt64)
    /// RFC 5032 WITHIN: OLDER/YOUNGER seconds.
    case older(UInt32), younger(UInt32)
}

/// ESEARCH return options (RFC 4731 §3.1, RFC 5182 SAVE).
public struct SearchReturn: Hashable, Sendable {
    public var min = false, max = false, all = false, count = false, save = false
    public init() {}
    public var isEmpty: Bool { !(min || max || all || count || save) }
}

/// A SEARCH command's arguments.
public struct SearchCommand: Hashable, Sendable {
    /// Present when the client used `RETURN (...)`: the answer is ESEARCH (RFC 4731).
    public var returnOptions: SearchReturn?
    public var charset: String?
    public var key: SearchKey
    public init(returnOptions: SearchReturn?, charset: String?, key: SearchKey) {
        self.returnOptions = returnOptions
        self.charset = charset
        self.key = key
    }
}

extension Parser {
    /// search = "SEARCH" [search-return-opts] [SP "CHARSET" SP charset] 1*(SP search-key)
    mutating func searchCommand() throws(IMAPSyntaxError) -> SearchCommand {
        var returnOptions: SearchReturn?
        var charset: String?
        try space()
        if skipWord("RETURN ") {
            var options = SearchReturn()
            let words = try parenthesized(allowEmpty: true) { (p: inout Parser) throws(IMAPSyntaxError) in try p.keyword() }
            for word in words {
                switch word {
                case "MIN": options.min = true
                case "MAX": options.max = true
                case "ALL": options.all = true
                case "COUNT": options.count = true
                case "SAVE": options.save = true
                default: throw IMAPSyntaxError("unknown RETURN option")
                }
            }
            if words.isEmpty { options.all = true }  // RFC 4731 §3.1: RETURN () means ALL
            returnOptions = options
            try space()
        }
        if skipWord("CHARSET ") {
            charset = String(decoding: try astring(), as: UTF8.self)
            try space()
        }
        var keys = [try searchKey()]
        while skip(32) {
            keys.append(try searchKey())
            guard keys.count <= 1000 else { throw IMAPSyntaxError("too many search keys") }
        }
        return SearchCommand(returnOptions: returnOptions, charset: charset, key: keys.count == 1 ? keys[0] : .and(keys))
    }

    mutating func searchKey() throws(IMAPSyntaxError) -> SearchKey {
        try enter()
        defer { leave() }
        if peek == UInt8(ascii: "(") {
            let keys = try parenthesized { (p: inout Parser) throws(IMAPSyntaxError) in try p.searchKey() }
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let c = peek, Self.isDigit(c) || c == UInt8(ascii: "*") || c == UInt8(ascii: "$") {
            return .sequence(try sequenceSet())
        }
        let word = try keyword()
        switch word {
        case "ALL": return .all
        case "ANSWERED": return .flag(.answered, set: true)
        case "DELETED": return .flag(.deleted, set: true)
        case "DRAFT": return .flag(.draft, set: true)
        case "FLAGGED": return .flag(.flagged, set: true)
        case "SEEN": return .flag(.seen, set: true)
        case "RECENT": return .recent
        case "NEW": return .new
        case "OLD": return .old
        case "UNANSWERED": return .flag(.answered, set: false)
        case "UNDELETED": return .flag(.deleted, set: false)
        case "UNDRAFT": return .flag(.draft, set: false)
        case "UNFLAGGED": return .flag(.flagged, set: false)
        case "UNSEEN": return .flag(.seen, set: false)
        case "KEYWORD", "UNKEYWORD":
            try space()
            return .flag(Flag(String(decoding: try atom(), as: UTF8.self)), set: word == "KEYWORD")
        case "BCC": try space(); return .bcc(try astring())
        case "CC": try space(); return .cc(try astring())
        case "FROM": try space(); return .from(try astring())
        case "TO": try space(); return .to(try astring())
        case "SUBJECT": try space(); return .subject(try astring())
        case "BODY": try space(); return .body(try astring())
        case "TEXT": try space(); return .text(try astring())
        case "HEADER":
            try space()
            let name = try astring()
            try space()
            return .header(name, try astring())
        case "BEFORE": try space(); return .before(try searchDate())
        case "ON": try space(); return .on(try searchDate())
        case "SINCE": try space(); return .since(try searchDate())
        case "SENTBEFORE": try space(); return .sentBefore(try searchDate())
        case "SENTON": try space(); return .sentOn(try searchDate())
        case "SENTSINCE": try space(); return .sentSince(try searchDate())
        case "LARGER": try space(); return .larger(try number())
        case "SMALLER": try space(); return .smaller(try number())
        case "OLDER": try space(); return .older(try nzNumber())
        case "YOUNGER": try space(); return .younger(try nzNumber())
        case "UID": try space(); return .uid(try sequenceSet())
        case "NOT": try space(); return .not(try searchKey())
        case "OR":
            try space()
            let a = try searchKey()
            try space()
            return .or(a, try searchKey())
        case "MODSEQ":
            // RFC 7162 §3.1.5: MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer
            try space()
            if peek == UInt8(ascii: "\"") {
                _ = try quoted()
                try space()
                _ = try atom()
                try space()
            }
            return .modSeq(try number64())
        default:
            throw IMAPSyntaxError("unknown search key \(word.prefix(40))")
        }
    }

    /// date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year
    mutating func searchDate() throws(IMAPSyntaxError) -> IMAPDate {
        let quotedDate = skip(UInt8(ascii: "\""))
        let day = Int(try number())
        try expect(UInt8(ascii: "-"), "- in a date")
        let monthStart = position
        position = min(position + 3, bytes.count)
        let monthName = String(decoding: Self.lowercased(Array(bytes[monthStart..<position])), as: UTF8.self)
        guard let month = IMAPDate.months.firstIndex(of: monthName) else { throw IMAPSyntaxError("bad month in a date") }
        try expect(UInt8(ascii: "-"), "- in a date")
        let year = Int(try number())
        if quotedDate { try expect(UInt8(ascii: "\""), "closing quote of the date") }
        guard (1...31).contains(day), (1...9999).contains(year) else { throw IMAPSyntaxError("bad date") }
        return IMAPDate(year: year, month: month + 1, day: day)
    }
}
