#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything that can go wrong in MaildirCore, typed so that a tool can map it to Courier's exit
/// codes (DESIGN.md "Errors") and a server to a protocol answer.
public enum MaildirError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: `operation` (e.g. "open"), the path it worked on, and errno.
    case system(operation: String, path: String, errno: Int32)
    /// The delivery would exceed the Maildir++ quota (`maildirsize`).
    case quotaExceeded
    /// A folder name that may not be used (`..`, `/`, control characters, too long, bad UTF-7).
    case invalidFolderName(String)
    /// The folder (or maildir) already exists.
    case alreadyExists(String)
    /// The folder (or message) does not exist.
    case notFound(String)
    /// A lock could not be obtained in time.
    case lockTimeout(String)
    /// The message source failed while it was being read (the caller's own error).
    case sourceFailed(String)

    /// errno of a failed system call, if this is one.
    public var errnoValue: Int32? {
        if case .system(_, _, let e) = self { return e }
        return nil
    }

    /// True when the file system is full or the user's disk quota is exhausted (ENOSPC, EDQUOT).
    public var isOutOfSpace: Bool {
        guard let e = errnoValue else { return false }
        return e == ENOSPC || e == EDQUOT
    }

    /// True when retrying later may succeed: a mail transfer agent maps this to a temporary
    /// failure (EX_TEMPFAIL / 4xx). Invalid names are permanent; everything else is temporary.
    public var isTemporary: Bool {
        switch self {
        case .invalidFolderName, .alreadyExists: return false
        default: return true
        }
    }

    /// `path: strerror(errno)`, as perror() prints it.
    public var description: String {
        switch self {
        case .system(_, let path, let e): return "\(path): \(SystemCall.errorText(e))"
        case .quotaExceeded: return "Mail quota exceeded."
        case .invalidFolderName(let n): return "Invalid folder name: \(n)"
        case .alreadyExists(let p): return "\(p): \(SystemCall.errorText(EEXIST))"
        case .notFound(let p): return "\(p): \(SystemCall.errorText(ENOENT))"
        case .lockTimeout(let p): return "\(p): lock timed out"
        case .sourceFailed(let why): return why
        }
    }
}
