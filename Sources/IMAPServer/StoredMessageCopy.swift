#if canImport(Glibc)
import Glibc
#endif
import MaildirCore

/// COPY and MOVE between folders: the message file copied into the target's tmp/ in pieces
/// (`PendingMessage.write(from:)`), never read whole (issue 6: a 100 MB message costs no
/// 100 MB of memory), with `MessageFileAccess`'s rule for symbolic links.
enum StoredMessageCopy {
    /// A pending copy of the file at `path` in `folderPath`; nil when the source is gone or
    /// refused. Throws when the copy cannot be written (the pending file is removed).
    static func pending(copying path: String, into folderPath: String) throws(MaildirError) -> PendingMessage? {
        let fd = MessageFileAccess.open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        let pending = try PendingMessage(folderPath: folderPath)
        try pending.write(from: fd, inputName: path)
        return pending
    }
}
