#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// What a mail-store operation can fail with, typed so that a server maps it to a protocol
/// answer (IMAP `NO`, `NO [OVERQUOTA]`, `NO [TRYCREATE]`, POP3 `-ERR`).
public enum MailStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A hostile or malformed mailbox name (`..`, `/`, control characters, overlong, bad
    /// modified UTF-7, no `INBOX.` prefix), or an operation that INBOX does not allow.
    case invalidName(String)
    /// A keyword with characters IMAP forbids (RFC 3501 §9 `atom-specials`, access.md §1.5).
    case invalidKeyword(String)
    /// The mailbox does not exist (IMAP `NO [TRYCREATE]` for APPEND/COPY).
    case mailboxNotFound(String)
    /// The mailbox already exists.
    case mailboxExists(String)
    /// No message with this UID in the current snapshot.
    case noSuchMessage(UInt32)
    /// The mailbox was opened read-only (EXAMINE).
    case readOnly
    /// The change would exceed the Maildir++ quota (`maildirsize`).
    case quotaExceeded
    /// A file-system operation failed (I/O error, disk full, lock timeout, ...). Temporary.
    case storage(MaildirError)
    /// The store's thread pool is shut down.
    case shutDown

    /// Maps a MaildirCore error.
    public init(_ error: MaildirError) {
        switch error {
        case .invalidFolderName(let n): self = .invalidName(n)
        case .quotaExceeded: self = .quotaExceeded
        case .alreadyExists(let p): self = .mailboxExists(p)
        default: self = .storage(error)
        }
    }

    /// True when the file system is full (ENOSPC/EDQUOT): a temporary error; nothing partial
    /// was left behind.
    public var isOutOfSpace: Bool {
        if case .storage(let e) = self { return e.isOutOfSpace }
        return false
    }

    /// True when retrying later may succeed.
    public var isTemporary: Bool {
        switch self {
        case .storage, .shutDown: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .invalidName(let n): return "Invalid mailbox name: \(n)"
        case .invalidKeyword(let k): return "Invalid keyword: \(k)"
        case .mailboxNotFound(let n): return "Mailbox does not exist: \(n)"
        case .mailboxExists(let n): return "Mailbox already exists: \(n)"
        case .noSuchMessage(let uid): return "No message with UID \(uid)"
        case .readOnly: return "Mailbox is read-only"
        case .quotaExceeded: return "Mail quota exceeded."
        case .storage(let e): return e.description
        case .shutDown: return "Mail store is shut down"
        }
    }
}
