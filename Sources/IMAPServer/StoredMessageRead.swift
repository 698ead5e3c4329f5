#if canImport(Glibc)
import Glibc
#endif
import MaildirCore

/// Reads a whole message file for FETCH with `MessageFileAccess`'s rule for symbolic links
/// (`SystemCall.readAll` sizes its buffer from `fstat`: one `read` for the whole file).
enum StoredMessageRead {
    /// The file's bytes (at most `limit`); nil when it is absent, refused or unreadable.
    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = MessageFileAccess.open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        return try? SystemCall.readAll(fd, path: path, limit: limit)
    }
}
