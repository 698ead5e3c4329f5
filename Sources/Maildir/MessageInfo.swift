import MaildirCore

/// The IMAP system flags (RFC 3501 §2.3.2) that live in a Maildir file name's `:2,` part
/// (access.md §1.2). `\Recent` is session state and is reported separately.
public struct SystemFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let answered = SystemFlags(rawValue: 1)   // R
    public static let flagged = SystemFlags(rawValue: 2)    // F
    public static let deleted = SystemFlags(rawValue: 4)    // T
    public static let seen = SystemFlags(rawValue: 8)       // S
    public static let draft = SystemFlags(rawValue: 16)     // D

    private static let letters: [(SystemFlags, UInt8)] = [
        (.draft, MessageFlags.draft), (.flagged, MessageFlags.flagged), (.answered, MessageFlags.replied),
        (.seen, MessageFlags.seen), (.deleted, MessageFlags.trashed),
    ]

    /// The flags a file name's letters stand for (unknown letters are ignored here and kept on
    /// disk by `applied(to:)`).
    public init(_ flags: MessageFlags) {
        var r: SystemFlags = []
        for (f, l) in Self.letters where flags.contains(l) { r.insert(f) }
        self = r
    }

    /// `letters` with the five known letters set to `self`, other letters preserved.
    public func applied(to letters: MessageFlags) -> MessageFlags {
        var result = letters
        for (f, l) in Self.letters { result = result.setting(l, contains(f)) }
        return result
    }

    /// IMAP flag names in a fixed order: `\Answered \Flagged \Deleted \Seen \Draft`.
    public var imapNames: [String] {
        var r: [String] = []
        if contains(.answered) { r.append("\\Answered") }
        if contains(.flagged) { r.append("\\Flagged") }
        if contains(.deleted) { r.append("\\Deleted") }
        if contains(.seen) { r.append("\\Seen") }
        if contains(.draft) { r.append("\\Draft") }
        return r
    }

    /// Parses one IMAP system flag name (case-insensitive); nil for keywords and `\Recent`.
    public init?(imapName: String) {
        switch imapName.lowercased() {
        case "\\answered": self = .answered
        case "\\flagged": self = .flagged
        case "\\deleted": self = .deleted
        case "\\seen": self = .seen
        case "\\draft": self = .draft
        default: return nil
        }
    }
}

/// One message of a mailbox snapshot.
public struct MessageInfo: Hashable, Sendable {
    /// The IMAP UID (from `courierimapuiddb`).
    public var uid: UInt32
    /// The current file name in `cur/` (with its `:2,` info).
    public var fileName: String
    /// The system flags.
    public var flags: SystemFlags
    /// Custom keywords (`courierimapkeywords/`), in stored order.
    public var keywords: [String]
    /// RFC822.SIZE: the size with CRLF line ends (`,W=` when present, else counted once).
    public var size: Int64
    /// INTERNALDATE: the file's modification time, seconds since the epoch.
    public var internalDate: Int64
    /// New to this session (`\Recent`): first seen by this process's scan.
    public var isRecent: Bool

    public init(uid: UInt32, fileName: String, flags: SystemFlags, keywords: [String], size: Int64,
                internalDate: Int64, isRecent: Bool) {
        self.uid = uid
        self.fileName = fileName
        self.flags = flags
        self.keywords = keywords
        self.size = size
        self.internalDate = internalDate
        self.isRecent = isRecent
    }

    /// The base name (file name without `:2,...`), the key of the uid and keyword databases.
    public var baseName: String { MessageFileName.baseName(of: fileName) }
}

/// A consistent view of a mailbox at one moment.
public struct MailboxSnapshot: Hashable, Sendable {
    public var uidValidity: UInt32
    public var uidNext: UInt32
    /// The messages in UID order (message sequence number = index + 1).
    public var messages: [MessageInfo]

    public init(uidValidity: UInt32, uidNext: UInt32, messages: [MessageInfo]) {
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.messages = messages
    }

    /// The index of a UID in `messages` (binary search), nil if absent.
    public func index(ofUID uid: UInt32) -> Int? {
        var lo = 0, hi = messages.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if messages[mid].uid < uid { lo = mid + 1 } else { hi = mid }
        }
        return lo < messages.count && messages[lo].uid == uid ? lo : nil
    }

    /// The message with this UID.
    public func message(uid: UInt32) -> MessageInfo? { index(ofUID: uid).map { messages[$0] } }
}

/// What changed between two snapshots (for IMAP untagged EXPUNGE/EXISTS/FETCH FLAGS).
public struct MailboxChanges: Hashable, Sendable {
    /// UIDs that disappeared, ascending.
    public var expunged: [UInt32]
    /// UIDs that appeared, ascending.
    public var added: [UInt32]
    /// UIDs still present whose flags or keywords changed, ascending.
    public var flagsChanged: [UInt32]
    /// True when UIDVALIDITY changed (the uid database was lost): the client must resync; the
    /// other lists then describe the change as a full replacement.
    public var uidValidityChanged: Bool

    public init(expunged: [UInt32] = [], added: [UInt32] = [], flagsChanged: [UInt32] = [], uidValidityChanged: Bool = false) {
        self.expunged = expunged
        self.added = added
        self.flagsChanged = flagsChanged
        self.uidValidityChanged = uidValidityChanged
    }

    /// True when nothing changed.
    public var isEmpty: Bool { expunged.isEmpty && added.isEmpty && flagsChanged.isEmpty && !uidValidityChanged }

    /// The differences from `old` to `new`.
    public static func between(_ old: MailboxSnapshot, _ new: MailboxSnapshot) -> MailboxChanges {
        var changes = MailboxChanges(uidValidityChanged: old.uidValidity != new.uidValidity)
        if changes.uidValidityChanged {
            changes.expunged = old.messages.map(\.uid)
            changes.added = new.messages.map(\.uid)
            return changes
        }
        var i = 0, j = 0
        let a = old.messages, b = new.messages
        while i < a.count || j < b.count {
            if j >= b.count || (i < a.count && a[i].uid < b[j].uid) {
                changes.expunged.append(a[i].uid); i += 1
            } else if i >= a.count || b[j].uid < a[i].uid {
                changes.added.append(b[j].uid); j += 1
            } else {
                if a[i].flags != b[j].flags || a[i].keywords != b[j].keywords { changes.flagsChanged.append(b[j].uid) }
                i += 1; j += 1
            }
        }
        return changes
    }
}

/// How a flag store changes a message's flags (IMAP STORE FLAGS / +FLAGS / -FLAGS).
public enum FlagOperation: Hashable, Sendable {
    case replace
    case add
    case remove
}

/// A quota root's limits and usage (RFC 2087 / `maildirsize`, access.md §1.9).
public struct QuotaStatus: Hashable, Sendable {
    /// The limits (0 = unlimited in that dimension).
    public var limit: QuotaSpec
    /// The current usage.
    public var usage: QuotaUsage
}

/// STATUS counters of a mailbox (RFC 3501 §6.3.10), from a read-only scan.
public struct MailboxStatus: Hashable, Sendable {
    public var messages: Int
    public var recent: Int
    public var unseen: Int
    public var uidNext: UInt32
    public var uidValidity: UInt32
}
