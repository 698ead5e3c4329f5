#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One `IMAP_EMPTYTRASH` entry: messages in `folder` older than `days` days are purged.
public struct EmptyTrashRule: Sendable, Equatable {
    /// The folder's Maildir++ name (`Trash`, `Sent`, `Old.Junk`; an `INBOX.` prefix is allowed).
    public var folder: String
    public var days: Int

    public init(folder: String, days: Int) {
        self.folder = folder
        self.days = days
    }

    /// `IMAP_EMPTYTRASH=Trash:7,Sent:30` (access.md §1.8); malformed entries are skipped.
    public static func parse(_ text: String) -> [EmptyTrashRule] {
        text.split(separator: ",").compactMap { entry in
            guard let colon = entry.lastIndex(of: ":"), let days = Int(entry[entry.index(after: colon)...].trimmingBlanks),
                  days > 0 else { return nil }
            let folder = String(entry[..<colon]).trimmingBlanks
            return folder.isEmpty ? nil : EmptyTrashRule(folder: folder, days: days)
        }
    }
}

extension Maildir {
    /// What Courier's imapd does at login (access.md §1.8): leftovers of interrupted deliveries
    /// in `tmp/` go after 36 hours, and each `IMAP_EMPTYTRASH` folder loses the messages whose
    /// change time is older than its days (counted ones are taken off the quota). Returns the
    /// number of messages purged. Blocking: call it off the event loops.
    @discardableResult
    public func housekeeping(emptyTrash rules: [EmptyTrashRule], now: Int64 = SystemCall.now().seconds) -> Int {
        purgeTemporaryFiles(folder: nil)
        var purged = 0
        for rule in rules {
            // `Trash` or `INBOX.Trash`, hierarchy with `.` (`Old.Junk`).
            let name = rule.folder.uppercased().hasPrefix("INBOX.") ? String(rule.folder.dropFirst(6)) : rule.folder
            guard let folder = try? FolderName(name) else { continue }
            let directory = directory(of: folder)
            guard SystemCall.exists(directory + "/cur") else { continue }
            let cutoff = now - Int64(rule.days) * 86_400
            for sub in ["cur", "new"] {
                for name in SystemCall.names(in: directory + "/" + sub) where !name.hasPrefix(".") {
                    let path = directory + "/" + sub + "/" + name
                    guard let st = SystemCall.linkStatus(path), (st.st_mode & S_IFMT) == S_IFREG,
                          Int64(st.st_ctim.tv_sec) < cutoff else { continue }
                    let fileName = MessageFileName(name)
                    if sub == "cur" {
                        if (try? expunge(folder: folder, fileName: fileName)) != nil { purged += 1 }
                    } else if unlink(path) == 0 {
                        purged += 1
                        let q = MaildirQuota(folderPath: directory, trashFolderName: trashFolderName)
                        if fileName.countsTowardQuota && q.countsFolder(directory) {
                            try? q.add(QuotaUsage(bytes: -(fileName.sizeHint ?? Int64(st.st_size)), messages: -1))
                        }
                    }
                }
            }
        }
        return purged
    }
}

extension StringProtocol {
    var trimmingBlanks: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
