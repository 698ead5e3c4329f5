import MaildirCore

/// A mailbox of one user's Maildir++: INBOX (the top directory) or a folder (`.Name`).
///
/// IMAP names are `INBOX` and `INBOX.<name>` (access.md §1.3), encoded in modified UTF-7
/// (RFC 3501 §5.1.3) unless the client enabled UTF8=ACCEPT (RFC 6855); on disk folder
/// directories are UTF-8 (`.Résumé`), as Courier-IMAP ≥ 5.0 stores them.
public enum MailboxName: Hashable, Sendable, Comparable, CustomStringConvertible {
    case inbox
    case folder(FolderName)

    /// The longest IMAP mailbox name accepted before decoding (bytes).
    public static let maximumIMAPNameLength = 1024

    /// Parses an IMAP mailbox name. Hostile names (`..`, `/`, control characters, bad modified
    /// UTF-7, names without the `INBOX.` prefix, overlong names) throw
    /// `MaildirError.invalidFolderName`.
    public init(imap name: String, utf8: Bool = false) throws(MaildirError) {
        guard name.utf8.count <= Self.maximumIMAPNameLength else { throw .invalidFolderName(String(name.prefix(64))) }
        switch try FolderName.fromIMAP(name, utf8: utf8) {
        case .inbox: self = .inbox
        case .folder(let f): self = .folder(f)
        }
    }

    /// A folder from its on-disk name (UTF-8, without the leading dot), validated.
    public init(folder name: String) throws(MaildirError) {
        self = .folder(try FolderName(name))
    }

    /// The IMAP name: `INBOX` or `INBOX.<name>` (modified UTF-7 unless `utf8`).
    public func imapName(utf8: Bool = false) -> String {
        switch self {
        case .inbox: return "INBOX"
        case .folder(let f): return f.imapName(utf8: utf8)
        }
    }

    /// The folder, nil for INBOX.
    public var folder: FolderName? {
        if case .folder(let f) = self { return f }
        return nil
    }

    /// The on-disk name without the dot (`Sent.2024`), empty for INBOX.
    public var diskName: String { folder?.name ?? "" }

    public static func < (a: MailboxName, b: MailboxName) -> Bool {
        switch (a, b) {
        case (.inbox, .inbox): return false
        case (.inbox, _): return true
        case (_, .inbox): return false
        case (.folder(let x), .folder(let y)): return x < y
        }
    }

    public var description: String { imapName(utf8: true) }
}

/// The RFC 6154 special use of a folder, by Courier's naming conventions: the trash folder is
/// `IMAP_TRASHFOLDERNAME` (default `Trash`); `Sent` and `Drafts` are the names Courier's
/// webmail (SqWebMail) creates.
public enum SpecialUse: String, Hashable, Sendable {
    case trash = "\\Trash"
    case sent = "\\Sent"
    case drafts = "\\Drafts"
}

/// One entry of a folder listing (IMAP LIST, RFC 3501 §7.2.2 / RFC 3348 child attributes).
public struct FolderEntry: Hashable, Sendable {
    /// The mailbox this entry names.
    public var name: MailboxName
    /// True for a hierarchy node that has children but no directory of its own (`\Noselect`).
    public var isPlaceholder: Bool
    /// True if some folder lies below this one (`\HasChildren`, else `\HasNoChildren`).
    public var hasChildren: Bool
    /// Special use by Courier's conventions (top-level Trash/Sent/Drafts only).
    public var specialUse: SpecialUse?
    /// True if the name is in `courierimapsubscribed`.
    public var isSubscribed: Bool

    public init(name: MailboxName, isPlaceholder: Bool, hasChildren: Bool, specialUse: SpecialUse?, isSubscribed: Bool) {
        self.name = name
        self.isPlaceholder = isPlaceholder
        self.hasChildren = hasChildren
        self.specialUse = specialUse
        self.isSubscribed = isSubscribed
    }

    /// The IMAP LIST attributes, e.g. `["\\Noselect", "\\HasChildren"]`, plus the special-use
    /// attribute when `specialUse` is asked for (RFC 6154; Courier itself does not send them).
    public func attributes(includeSpecialUse: Bool = false) -> [String] {
        var result: [String] = []
        if isPlaceholder { result.append("\\Noselect") }
        result.append(hasChildren ? "\\HasChildren" : "\\HasNoChildren")
        if includeSpecialUse, let specialUse { result.append(specialUse.rawValue) }
        return result
    }
}
