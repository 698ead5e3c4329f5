/// Parses one framed command (``CommandFramer``) into a ``TaggedCommand``.
///
/// command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
/// (RFC 3501 §9, RFC 9051 §9). The command name goes through a table, one parse function per
/// command. A failure keeps the tag when one was read, so the server can answer `tag BAD`.
public enum CommandParser {
    /// A command that could not be parsed.
    public struct Failure: Error, Equatable, Sendable {
        public var tag: [UInt8]?
        public var error: IMAPSyntaxError
    }

    typealias ParseFunction = @Sendable (inout Parser, Bool) throws(IMAPSyntaxError) -> Command

    public static func parse(_ bytes: [UInt8], limits: IMAPLimits = IMAPLimits()) -> Result<TaggedCommand, Failure> {
        var p = Parser(bytes, limits: limits)
        let tag: [UInt8]
        do throws(IMAPSyntaxError) {
            tag = try p.tag()
            try p.space()
        } catch {
            return .failure(Failure(tag: nil, error: error))
        }
        do throws(IMAPSyntaxError) {
            var name = try p.keyword()
            var uid = false
            if name == "UID" {
                try p.space()
                name = try p.keyword()
                uid = true
                guard uidCommands.contains(name) else { throw IMAPSyntaxError("UID \(name.prefix(20)) is not a command") }
            }
            guard let function = table[name] else {
                throw IMAPSyntaxError("unknown command \(name.prefix(40))")
            }
            let command = try function(&p, uid)
            try p.end()
            return .success(TaggedCommand(tag: tag, command: command))
        } catch {
            return .failure(Failure(tag: tag, error: error))
        }
    }

    static let uidCommands: Set<String> = ["FETCH", "STORE", "COPY", "MOVE", "SEARCH", "SORT", "THREAD", "EXPUNGE"]

    static let table: [String: ParseFunction] = [
        "CAPABILITY": { _, _ in .capability },
        "NOOP": { _, _ in .noop },
        "LOGOUT": { _, _ in .logout },
        "STARTTLS": { _, _ in .starttls },
        "CHECK": { _, _ in .check },
        "CLOSE": { _, _ in .close },
        "UNSELECT": { _, _ in .unselect },
        "IDLE": { _, _ in .idle },
        "NAMESPACE": { _, _ in .namespace },
        "EXPUNGE": { (p: inout Parser, uid: Bool) throws(IMAPSyntaxError) in
            guard uid else { return .expunge }
            try p.space()
            return .uidExpunge(try p.sequenceSet())
        },
        "LOGIN": parseLogin,
        "AUTHENTICATE": parseAuthenticate,
        "ENABLE": parseEnable,
        "SELECT": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            let (name, parameters) = try parseSelect(&p)
            return .select(name, parameters)
        },
        "EXAMINE": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            let (name, parameters) = try parseSelect(&p)
            return .examine(name, parameters)
        },
        "CREATE": parseCreate,
        "DELETE": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .delete(try p.mailbox()) },
        "RENAME": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let from = try p.mailbox()
            try p.space()
            return .rename(from, try p.mailbox())
        },
        "SUBSCRIBE": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .subscribe(try p.mailbox()) },
        "UNSUBSCRIBE": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .unsubscribe(try p.mailbox()) },
        "LIST": parseList,
        "LSUB": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let reference = try p.astring()
            try p.space()
            var list = ListCommand(reference: reference, patterns: [try p.listMailbox()])
            list.isLSUB = true
            return .list(list)
        },
        "STATUS": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let name = try p.mailbox()
            try p.space()
            return .status(name, try p.statusItems())
        },
        "APPEND": parseAppend,
        "SEARCH": { (p: inout Parser, uid: Bool) throws(IMAPSyntaxError) in .search(try p.searchCommand(), uid: uid) },
        "FETCH": parseFetch,
        "STORE": parseStore,
        "COPY": { (p: inout Parser, uid: Bool) throws(IMAPSyntaxError) in
            try p.space()
            let set = try p.sequenceSet()
            try p.space()
            return .copy(set, try p.mailbox(), uid: uid)
        },
        "MOVE": { (p: inout Parser, uid: Bool) throws(IMAPSyntaxError) in
            try p.space()
            let set = try p.sequenceSet()
            try p.space()
            return .move(set, try p.mailbox(), uid: uid)
        },
        "SORT": parseSort,
        "THREAD": parseThread,
        "ID": parseID,
        "GETQUOTA": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .getQuota(try p.astring()) },
        "GETQUOTAROOT": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .getQuotaRoot(try p.mailbox()) },
        "SETQUOTA": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let root = try p.astring()
            try p.space()
            _ = try p.parenthesized(allowEmpty: true) { (q: inout Parser) throws(IMAPSyntaxError) in
                let name = try q.atom()
                try q.space()
                _ = try q.number64()
                return name
            }
            return .setQuota(root)
        },
        "GETACL": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .getACL(try p.mailbox()) },
        "MYRIGHTS": { (p: inout Parser, _) throws(IMAPSyntaxError) in try p.space(); return .myRights(try p.mailbox()) },
        "LISTRIGHTS": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let name = try p.mailbox()
            try p.space()
            return .listRights(name, try p.astring())
        },
        "SETACL": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let name = try p.mailbox()
            try p.space()
            let identifier = try p.astring()
            try p.space()
            return .setACL(name, identifier: identifier, rights: try p.astring())
        },
        "DELETEACL": { (p: inout Parser, _) throws(IMAPSyntaxError) in
            try p.space()
            let name = try p.mailbox()
            try p.space()
            return .deleteACL(name, identifier: try p.astring())
        },
    ]

    // login = "LOGIN" SP userid SP password
    static func parseLogin(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let user = try p.astring()
        try p.space()
        return .login(user: user, password: try p.astring())
    }

    // authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]  (RFC 4959 SASL-IR)
    static func parseAuthenticate(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let mechanism = try p.keyword()
        var initial: [UInt8]?
        if p.skip(32) {
            let start = p.position
            while let c = p.peek, c != 32 { p.position += 1 }
            initial = Array(p.bytes[start..<p.position])
            guard initial?.isEmpty == false else { throw IMAPSyntaxError("empty initial response") }
        }
        return .authenticate(mechanism: mechanism, initialResponse: initial)
    }

    // enable = "ENABLE" 1*(SP capability)  (RFC 5161)
    static func parseEnable(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        var names: [String] = []
        while p.skip(32) {
            names.append(String(decoding: Parser.uppercased(try p.atom()), as: UTF8.self))
        }
        guard !names.isEmpty else { throw IMAPSyntaxError("ENABLE needs a capability") }
        return .enable(names)
    }

    // select = "SELECT" SP mailbox [SP "(" select-param *(SP select-param) ")"]
    static func parseSelect(_ p: inout Parser) throws(IMAPSyntaxError) -> (MailboxName, SelectParameters) {
        try p.space()
        let name = try p.mailbox()
        var parameters = SelectParameters()
        if p.skip(32) {
            _ = try p.parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in
                let word = try q.keyword()
                switch word {
                case "CONDSTORE": parameters.condstore = true
                case "QRESYNC":
                    // RFC 7162 §3.2.5: QRESYNC (uidvalidity modseq [known-uids [seq-match-data]])
                    try q.space()
                    try q.expect(UInt8(ascii: "("), "(")
                    let validity = try q.nzNumber()
                    try q.space()
                    let modSeq = try q.number64()
                    var known: SequenceSet?
                    var sequences: SequenceSet?, sequenceUIDs: SequenceSet?
                    if q.skip(32) {
                        if q.peek != UInt8(ascii: "(") { known = try q.knownSet(); _ = q.skip(32) }
                        if q.peek == UInt8(ascii: "(") {
                            // seq-match-data = "(" known-sequence-set SP known-uid-set ")"
                            try q.expect(UInt8(ascii: "("), "(")
                            sequences = try q.knownSet()
                            try q.space()
                            sequenceUIDs = try q.knownSet()
                            try q.expect(UInt8(ascii: ")"), ")")
                        }
                    }
                    try q.expect(UInt8(ascii: ")"), ")")
                    parameters.qresync = .init(uidValidity: validity, modSeq: modSeq, knownUIDs: known,
                                               knownSequences: sequences, knownSequenceUIDs: sequenceUIDs)
                    parameters.condstore = true
                default: throw IMAPSyntaxError("unknown SELECT parameter")
                }
                return word
            }
        }
        return (name, parameters)
    }

    // create = "CREATE" SP mailbox [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"]  (RFC 6154 §3)
    static func parseCreate(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let name = try p.mailbox()
        var uses: [String] = []
        if p.skip(32) {
            _ = try p.parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in
                guard q.skipWord("USE ") else { throw IMAPSyntaxError("unknown CREATE parameter") }
                uses = try q.parenthesized { (r: inout Parser) throws(IMAPSyntaxError) in
                    try r.expect(UInt8(ascii: "\\"), "a special-use attribute")
                    return "\\" + String(decoding: try r.atom(), as: UTF8.self)
                }
                return 0
            }
        }
        return .create(name, specialUse: uses)
    }

    // list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]  (RFC 5258 §6)
    static func parseList(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        var selection: [String] = []
        if p.peek == UInt8(ascii: "(") {
            selection = try p.parenthesized(allowEmpty: true) { (q: inout Parser) throws(IMAPSyntaxError) in try q.keyword() }
            try p.space()
        }
        let reference = try p.astring()
        try p.space()
        let patterns: [[UInt8]]
        if p.peek == UInt8(ascii: "(") {
            patterns = try p.parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in try q.listMailbox() }
        } else {
            patterns = [try p.listMailbox()]
        }
        var list = ListCommand(reference: reference, patterns: patterns)
        for option in selection {
            switch option {
            case "SUBSCRIBED": list.subscribedOnly = true
            case "RECURSIVEMATCH": list.recursiveMatch = true
            case "SPECIAL-USE": list.specialUseOnly = true
            case "REMOTE": break
            default: throw IMAPSyntaxError("unknown LIST selection option")
            }
        }
        if list.recursiveMatch && !list.subscribedOnly && !list.specialUseOnly {
            // RFC 5258 §3: not alone, nor with REMOTE only.
            throw IMAPSyntaxError("RECURSIVEMATCH needs another selection option")
        }
        if p.skip(32) {
            guard p.skipWord("RETURN ") else { throw IMAPSyntaxError("expected RETURN") }
            try p.enter()
            defer { p.leave() }
            try p.expect(UInt8(ascii: "("), "(")
            var first = true
            while !p.skip(UInt8(ascii: ")")) {
                if !first { try p.space() }
                first = false
                switch try p.keyword() {
                case "SUBSCRIBED": list.returnSubscribed = true
                case "CHILDREN": list.returnChildren = true
                case "SPECIAL-USE": list.returnSpecialUse = true
                case "MYRIGHTS": list.returnMyRights = true   // RFC 8440 §3
                case "STATUS":
                    try p.space()
                    list.returnStatus = try p.statusItems()
                default: throw IMAPSyntaxError("unknown LIST return option")
                }
            }
        }
        return .list(list)
    }

    // append = "APPEND" SP mailbox 1*append-message  (RFC 3502: several messages)
    // append-message = [SP flag-list] [SP date-time] SP (literal / literal8 / "UTF8" SP "(" literal8 ")")
    // (RFC 3516 literal8; RFC 6855 §4 the UTF8 data item for messages with UTF-8 headers)
    static func parseAppend(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let name = try p.mailbox()
        var messages: [AppendMessage] = []
        while p.skip(32) {
            var flags: [Flag] = []
            var date: IMAPDateTime?
            if p.peek == UInt8(ascii: "(") {
                flags = try p.flagList()
                try p.space()
            }
            if p.peek == UInt8(ascii: "\"") {
                date = try p.dateTime()
                try p.space()
            }
            let bytes: [UInt8]
            var binary = false
            if p.skipWord("UTF8 (") {
                bytes = try p.literal(binaryAllowed: true).bytes  // a message, 8-bit headers allowed
                try p.expect(UInt8(ascii: ")"), ") after the UTF8 message")
            } else {
                (bytes, binary) = try p.literal(binaryAllowed: true)
            }
            messages.append(AppendMessage(flags: flags, date: date, bytes: bytes, binary: binary))
            guard messages.count <= p.limits.appendMessages else { throw IMAPSyntaxError("too many messages") }
        }
        guard !messages.isEmpty else { throw IMAPSyntaxError("APPEND needs a message") }
        return .append(name, messages)
    }

    // fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")
    //         [fetch-modifiers]
    static func parseFetch(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let set = try p.sequenceSet()
        try p.space()
        var attributes = try p.fetchAttributes()
        var modifiers = FetchModifiers()
        if p.skip(32) {
            _ = try p.parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in
                switch try q.keyword() {
                case "CHANGEDSINCE":
                    try q.space()
                    modifiers.changedSince = try q.number64()
                case "VANISHED":
                    guard uid else { throw IMAPSyntaxError("VANISHED needs UID FETCH") }
                    modifiers.vanished = true
                default: throw IMAPSyntaxError("unknown FETCH modifier")
                }
                return 0
            }
            if modifiers.vanished && modifiers.changedSince == nil {
                throw IMAPSyntaxError("VANISHED needs CHANGEDSINCE")  // RFC 7162 §3.2.6
            }
            if modifiers.changedSince != nil && !attributes.contains(.modSeq) { attributes.append(.modSeq) }
        }
        if uid && !attributes.contains(.uid) { attributes.insert(.uid, at: 0) }
        return .fetch(set, attributes, modifiers, uid: uid)
    }

    // store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
    // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    static func parseStore(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let set = try p.sequenceSet()
        try p.space()
        var unchangedSince: UInt64?
        if p.peek == UInt8(ascii: "(") {
            _ = try p.parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in
                guard q.skipWord("UNCHANGEDSINCE ") else { throw IMAPSyntaxError("unknown STORE modifier") }
                unchangedSince = try q.number64()
                return 0
            }
            try p.space()
        }
        var kind = StoreAction.Kind.replace
        if p.skip(UInt8(ascii: "+")) { kind = .add } else if p.skip(UInt8(ascii: "-")) { kind = .remove }
        let start = p.position
        while let c = p.peek, Parser.isAtomChar(c) { p.position += 1 }
        let item = String(decoding: Parser.uppercased(Array(p.bytes[start..<p.position])), as: UTF8.self)
        guard item == "FLAGS" || item == "FLAGS.SILENT" else { throw IMAPSyntaxError("STORE takes FLAGS or FLAGS.SILENT") }
        try p.space()
        var flags: [Flag]
        if p.peek == UInt8(ascii: "(") {
            flags = try p.flagList()
        } else {
            flags = [try p.flag()]
            while p.skip(32) { flags.append(try p.flag()) }
        }
        return .store(set, unchangedSince: unchangedSince,
                      StoreAction(kind: kind, silent: item == "FLAGS.SILENT", flags: flags), uid: uid)
    }

    // sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria  (RFC 5256 §5)
    static func parseSort(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        var reverse = false
        let words = try p.parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in try q.keyword() }
        var criteria: [SortCriterion] = []
        for word in words {
            if word == "REVERSE" { reverse = true; continue }
            guard let key = SortCriterion.Key(rawValue: word) else { throw IMAPSyntaxError("unknown sort key") }
            criteria.append(SortCriterion(key: key, reverse: reverse))
            reverse = false
        }
        guard !criteria.isEmpty, !reverse else { throw IMAPSyntaxError("bad sort criteria") }
        try p.space()
        let charset = String(decoding: try p.astring(), as: UTF8.self)
        var keys: [SearchKey] = []
        while p.skip(32) { keys.append(try p.searchKey()) }
        guard !keys.isEmpty else { throw IMAPSyntaxError("SORT needs search keys") }
        return .sort(criteria, charset: charset, keys.count == 1 ? keys[0] : .and(keys), uid: uid)
    }

    // thread = ["UID" SP] "THREAD" SP thread-alg SP search-charset 1*(SP search-key)
    static func parseThread(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        let algorithm = try p.keyword()
        try p.space()
        let charset = String(decoding: try p.astring(), as: UTF8.self)
        var keys: [SearchKey] = []
        while p.skip(32) { keys.append(try p.searchKey()) }
        guard !keys.isEmpty else { throw IMAPSyntaxError("THREAD needs search keys") }
        return .thread(algorithm: algorithm, charset: charset, keys.count == 1 ? keys[0] : .and(keys), uid: uid)
    }

    // id = "ID" SP id-params-list; id-params-list = "(" *(string SP nstring) ")" / nil  (RFC 2971)
    static func parseID(_ p: inout Parser, _ uid: Bool) throws(IMAPSyntaxError) -> Command {
        try p.space()
        if p.skipWord("NIL") { return .id(nil) }
        let pairs = try p.parenthesized(allowEmpty: true) { (q: inout Parser) throws(IMAPSyntaxError) in
            let key = try q.string()
            try q.space()
            return (key: key, value: try q.nstring())
        }
        guard pairs.count <= 30 else { throw IMAPSyntaxError("too many ID fields") }
        return .id(pairs)
    }
}

extension Parser {
    /// "(" status-att *(SP status-att) ")"
    mutating func statusItems() throws(IMAPSyntaxError) -> [StatusItem] {
        try parenthesized { (q: inout Parser) throws(IMAPSyntaxError) in
            let word = try q.keyword()
            guard let item = StatusItem(rawValue: word) else { throw IMAPSyntaxError("unknown STATUS item") }
            return item
        }
    }

    /// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    mutating func dateTime() throws(IMAPSyntaxError) -> IMAPDateTime {
        let text = try quoted()
        var q = Parser(text)
        _ = q.skip(32)
        let date = try q.searchDate()
        try q.space()
        let hour = Int(try q.number())
        try q.expect(UInt8(ascii: ":"), ":")
        let minute = Int(try q.number())
        try q.expect(UInt8(ascii: ":"), ":")
        let second = Int(try q.number())
        try q.space()
        let sign: Int
        if q.skip(UInt8(ascii: "+")) { sign = 1 } else if q.skip(UInt8(ascii: "-")) { sign = -1 } else {
            throw IMAPSyntaxError("bad time zone")
        }
        let zone = Int(try q.number())
        try q.end()
        guard hour < 24, minute < 60, second < 61, zone <= 2359, zone % 100 < 60 else { throw IMAPSyntaxError("bad date-time") }
        return IMAPDateTime(date: date, hour: hour, minute: minute, second: second,
                            zoneMinutes: sign * (zone / 100 * 60 + zone % 100))
    }
}
