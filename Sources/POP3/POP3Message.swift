/// One message of the POP3 mailbox as the session sees it (spec/access.md §3.3).
public struct POP3Message: Equatable, Sendable {
    /// Path relative to the Maildir (`cur/<name>`); changes when RETR sets the S flag.
    public var path: String
    /// Size with CRLF line ends, as STAT, LIST and RETR report it.
    public var size: Int64
    /// The UIDL string (`UID<uid>-<uidv>`, or an older form for migrated mailboxes).
    public var uidl: String
    public var deleted: Bool = false
    /// A header holds 8-bit bytes (the size list's `utf8` flag): clients that did not send
    /// `UTF8` get it wrapped (RFC 6856 §3, `POP3UnicodeWrapper`).
    public var utf8: Bool = false

    public init(path: String, size: Int64, uidl: String, deleted: Bool = false, utf8: Bool = false) {
        self.path = path
        self.size = size
        self.uidl = uidl
        self.deleted = deleted
        self.utf8 = utf8
    }
}
