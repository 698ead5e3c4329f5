#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MaildirCore

/// RENAME INBOX (RFC 9051 §6.3.6, RFC 3501 §6.3.5): every message of INBOX moves to a new
/// folder of the given name (flags and keywords kept) and INBOX stays, empty; INBOX's own
/// sub-folders stay where they are.
extension MailboxSession {
    func renameInbox(_ tag: [UInt8], to folder: FolderName, into w: inout ResponseWriter) {
        if maildir.folderExists(folder) {
            w.tagged(tag, .no, .alreadyExists, "Mailbox already exists.")
            return
        }
        do {
            try maildir.createFolder(folder)
        } catch {
            w.tagged(tag, .no, .cannot, "Cannot create the mailbox: \(error)")
            return
        }
        let target = maildir.directory(of: folder)
        // Keywords live in INBOX's courierimapkeywords: read them before the files go.
        let keywords = options.keywords ? (try? KeywordStore(folderPath: maildir.path).load())?.messages ?? [:] : [:]
        var moved = 0
        var failed = 0
        // Files keep their names (so their flags); the new folder numbers them at its first scan.
        for sub in ["cur", "new"] {
            for name in SystemCall.names(in: maildir.path + "/" + sub) where !name.hasPrefix(".") {
                if Glibc.rename(maildir.path + "/" + sub + "/" + name, target + "/" + sub + "/" + name) == 0 {
                    moved += 1
                    let base = MessageFileName.baseName(of: name)
                    if let words = keywords[base], !words.isEmpty {
                        try? KeywordStore(folderPath: target).update(baseName: base, keywords: words)
                        try? KeywordStore(folderPath: maildir.path).update(baseName: base, keywords: [])
                    }
                } else if errno != ENOENT {  // gone already: another session expunged it
                    failed += 1
                }
            }
        }
        // Messages in Trash do not count toward the quota (Maildir++): recount when they moved there.
        if folder.name == maildir.trashFolderName, let current = maildir.quota.read() {
            _ = try? maildir.quota.withLock { () throws(MaildirError) in try maildir.quota.recalculate(quota: current.file.quota) }
        }
        if failed > 0 {
            w.tagged(tag, .no, .serverBug, "\(failed) messages could not be moved (\(moved) were).")
        } else {
            w.tagged(tag, .ok, nil, "INBOX renamed: \(moved) messages moved.")
        }
    }
}
