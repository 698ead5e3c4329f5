/// Items of STATUS (RFC 3501 §6.3.10, RFC 9051 §6.3.11 SIZE/DELETED, RFC 7162 HIGHESTMODSEQ, RFC 7889 APPENDLIMIT).
public enum StatusItem: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES", recent = "RECENT", uidNext = "UIDNEXT", uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN", size = "SIZE", deleted = "DELETED", highestModSeq = "HIGHESTMODSEQ"
    case appendLimit = "APPENDLIMIT"  // RFC 7889 §4
}

/// A STORE operation (RFC 3501 §6.4.6).
public struct StoreAction: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case replace, add, remove }
    public var kind: Kind
    public var silent: Bool
    public var flags: [Flag]
    public init(kind: Kind, silent: Bool, flags: [Flag]) {
        self.kind = kind
        self.silent = silent
        self.flags = flags
    }
}

/// An APPEND date-time (RFC 3501 §9 `date-time`), kept as its components and zone.
public struct IMAPDateTime: Hashable, Sendable {
    public var date: IMAPDate
    public var hour: Int, minute: Int, second: Int
    /// Offset from UTC in minutes.
    public var zoneMinutes: Int
    public init(date: IMAPDate, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.zoneMinutes = zoneMinutes
    }
}

/// One message of an APPEND (RFC 3501 §6.3.11, RFC 3502 MULTIAPPEND).
public struct AppendMessage: Hashable, Sendable {
    public var flags: [Flag]
    public var date: IMAPDateTime?
    public var bytes: [UInt8]
    public var binary: Bool
}

/// LIST arguments (RFC 3501 §6.3.8, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154).
public struct ListCommand: Hashable, Sendable {
    public var reference: [UInt8]
    public var patterns: [[UInt8]]
    public var subscribedOnly = false
    public var recursiveMatch = false
    public var specialUseOnly = false
    public var returnSubscribed = false
    public var returnChildren = false
    public var returnSpecialUse = false
    public var returnStatus: [StatusItem]?
    /// RFC 8440 LIST-MYRIGHTS: `RETURN (MYRIGHTS)`, a `* MYRIGHTS` answer per listed mailbox.
    public var returnMyRights = false
    /// LSUB (RFC 3501 §6.3.9) rather than LIST.
    public var isLSUB = false
    public init(reference: [UInt8], patterns: [[UInt8]]) {
        self.reference = reference
        self.patterns = patterns
    }
}

/// SELECT/EXAMINE parameters (RFC 7162 §3.1.8 CONDSTORE, §3.2.5 QRESYNC).
public struct SelectParameters: Hashable, Sendable {
    /// QRESYNC's known state of the mailbox.
    public struct QResync: Hashable, Sendable {
        public var uidValidity: UInt32
        public var modSeq: UInt64
        public var knownUIDs: SequenceSet?
        /// seq-match-data (§3.2.5.2): message numbers the client knows and, pair by pair in the
        /// order written, the UIDs it believes they have.
        public var knownSequences: SequenceSet?
        public var knownSequenceUIDs: SequenceSet?
        public init(uidValidity: UInt32, modSeq: UInt64, knownUIDs: SequenceSet? = nil,
                    knownSequences: SequenceSet? = nil, knownSequenceUIDs: SequenceSet? = nil) {
            self.uidValidity = uidValidity
            self.modSeq = modSeq
            self.knownUIDs = knownUIDs
            self.knownSequences = knownSequences
            self.knownSequenceUIDs = knownSequenceUIDs
        }
    }
    public var condstore = false
    public var qresync: QResync?
    public init() {}
}

/// SORT criteria (RFC 5256 §3).
public struct SortCriterion: Hashable, Sendable {
    public enum Key: String, Hashable, Sendable {
        case arrival = "ARRIVAL", cc = "CC", date = "DATE", from = "FROM", size = "SIZE", subject = "SUBJECT", to = "TO"
        case displayFrom = "DISPLAYFROM", displayTo = "DISPLAYTO"
    }
    public var key: Key
    public var reverse: Bool
    public init(key: Key, reverse: Bool) {
        self.key = key
        self.reverse = reverse
    }
}

/// Every IMAP4rev1/IMAP4rev2 command and the extension commands we serve.
public enum Command: Hashable, Sendable {
    case capability, noop, logout, starttls
    case authenticate(mechanism: String, initialResponse: [UInt8]?)
    case login(user: [UInt8], password: [UInt8])
    case enable([String])
    case select(MailboxName, SelectParameters), examine(MailboxName, SelectParameters)
    case create(MailboxName, specialUse: [String])
    case delete(MailboxName)
    case rename(MailboxName, MailboxName)
    case subscribe(MailboxName), unsubscribe(MailboxName)
    case list(ListCommand)
    case namespace
    case status(MailboxName, [StatusItem])
    case append(MailboxName, [AppendMessage])
    case idle
    case check, close, unselect, expunge
    case uidExpunge(SequenceSet)
    case search(SearchCommand, uid: Bool)
    case fetch(SequenceSet, [FetchAttribute], FetchModifiers, uid: Bool)
    case store(SequenceSet, unchangedSince: UInt64?, StoreAction, uid: Bool)
    case copy(SequenceSet, MailboxName, uid: Bool)
    case move(SequenceSet, MailboxName, uid: Bool)
    case sort([SortCriterion], charset: String, SearchKey, uid: Bool)
    case thread(algorithm: String, charset: String, SearchKey, uid: Bool)
    case id([(key: [UInt8], value: [UInt8]?)]?)
    case getQuota([UInt8]), getQuotaRoot(MailboxName), setQuota([UInt8])
    case getACL(MailboxName), myRights(MailboxName), listRights(MailboxName, [UInt8])
    case setACL(MailboxName, identifier: [UInt8], rights: [UInt8]), deleteACL(MailboxName, identifier: [UInt8])

    public static func == (a: Command, b: Command) -> Bool { a.debugKey == b.debugKey }
    public func hash(into hasher: inout Hasher) { hasher.combine(debugKey) }
    private var debugKey: String { String(describing: self) }

    /// The command's name as RFC 3501 spells it, for responses such as `OK FETCH completed`.
    public var name: String {
        switch self {
        case .capability: "CAPABILITY"
        case .noop: "NOOP"
        case .logout: "LOGOUT"
        case .starttls: "STARTTLS"
        case .authenticate: "AUTHENTICATE"
        case .login: "LOGIN"
        case .enable: "ENABLE"
        case .select: "SELECT"
        case .examine: "EXAMINE"
        case .create: "CREATE"
        case .delete: "DELETE"
        case .rename: "RENAME"
        case .subscribe: "SUBSCRIBE"
        case .unsubscribe: "UNSUBSCRIBE"
        case .list(let l): l.isLSUB ? "LSUB" : "LIST"
        case .namespace: "NAMESPACE"
        case .status: "STATUS"
        case .append: "APPEND"
        case .idle: "IDLE"
        case .check: "CHECK"
        case .close: "CLOSE"
        case .unselect: "UNSELECT"
        case .expunge, .uidExpunge: "EXPUNGE"
        case .search: "SEARCH"
        case .fetch: "FETCH"
        case .store: "STORE"
        case .copy: "COPY"
        case .move: "MOVE"
        case .sort: "SORT"
        case .thread: "THREAD"
        case .id: "ID"
        case .getQuota: "GETQUOTA"
        case .getQuotaRoot: "GETQUOTAROOT"
        case .setQuota: "SETQUOTA"
        case .getACL: "GETACL"
        case .myRights: "MYRIGHTS"
        case .listRights: "LISTRIGHTS"
        case .setACL: "SETACL"
        case .deleteACL: "DELETEACL"
        }
    }
}

/// A parsed command with its tag.
public struct TaggedCommand: Hashable, Sendable {
    public var tag: [UInt8]
    public var command: Command
    public init(tag: [UInt8], command: Command) {
        self.tag = tag
        self.command = command
    }
}
