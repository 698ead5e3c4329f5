#if canImport(Glibc)
import Glibc
#endif
import IMAP
import enum Maildir.FolderIndex
import MaildirCore

/// STATUS items beyond RFC 3501's: SIZE (RFC 9051 §6.3.11, RFC 8438) and APPENDLIMIT (RFC 7889 §4).
extension MailboxSession {
    /// STATUS SIZE: the sum of the messages' RFC822.SIZE (CRLF line ends), as RFC 9051 §6.3.11
    /// asks (never less than that sum). Sizes of messages in `cur/` come from the store's index
    /// (measured once per message, ever); mail still in `new/` is measured here.
    func mailboxSize(_ dir: String) -> Int64 {
        var total: Int64 = 0
        if let snapshot = try? FolderIndex.open(folderPath: dir, trashFolderName: maildir.trashFolderName, readOnly: true) {
            for m in snapshot.messages { total += max(0, m.size) }
        }
        for name in SystemCall.names(in: dir + "/new") where !name.hasPrefix(".") {
            total += Self.crlfSize(dir + "/new/" + name)
        }
        return total
    }

    /// A file's size with every bare LF counted as CRLF: the `,W=` hint, else the file read in
    /// pieces (`LargeMessage.crlfSize`), never whole.
    static func crlfSize(_ path: String) -> Int64 {
        if let hint = MessageFileName(path.split(separator: "/").last.map(String.init) ?? "").virtualSizeHint { return hint }
        return LargeMessage.crlfSize(path).map(Int64.init) ?? 0
    }

    /// STATUS APPENDLIMIT (RFC 7889 §4): the largest APPEND the server takes, or the account's
    /// whole storage quota (`maildirsize`) when that is smaller: a larger message could never fit.
    func appendLimit(_ limit: Int) -> Int64 {
        var result = Int64(limit)
        if let q = maildir.quota.read()?.file.quota, q.bytes > 0 { result = min(result, Int64(q.bytes)) }
        return result
    }
}
