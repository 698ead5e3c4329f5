#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import MailQueue

/// Mailbox instructions: a directory is a Maildir (MaildirCore, quota enforced), anything
/// else an mbox (MaildirCore's locked append with `>From ` quoting).
enum MailboxWriter {
    /// Directory fsyncs shared by concurrent deliveries (one per `new/` directory at a time).
    static let directorySync = DirectorySyncGroup()

    static func deliver(to path: String, context: LocalTransport.InstructionContext, token: String) -> DeliveryOutcome {
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            return maildir(path, context: context, token: token)
        }
        return mbox(path, context: context)
    }

    static func maildir(_ path: String, context: LocalTransport.InstructionContext, token: String) -> DeliveryOutcome {
        if context.request.mayBeRepeat && alreadyDelivered(path, token: token) {
            return .delivered("already delivered to \(path) before a restart")
        }
        let prefix = Array((context.lines.deliveredTo + "\n" + context.lines.returnPath + "\n").utf8)
        do throws(MaildirError) {
            let message = try PendingMessage(folderPath: path, uniq: token)
            try message.write(prefix)
            try message.write(context.request.body)
            let quota: QuotaMode = context.account.quota.map { .enforce(newQuota: QuotaSpec($0)) } ?? .enforce()
            // The file is fsynced by commit; `new/` is fsynced below, shared with every other
            // delivery into it that linked its file meanwhile (group commit).
            let delivered = try message.commit(quota: quota, sync: .deferred)
            if getuid() == 0 { _ = lchown(delivered.path, context.account.uid, context.account.gid) }
            do throws(MaildirError) {
                try directorySync.syncDirectory(path + "/new")
            } catch {
                // Not durable, so not delivered: take it back (and its quota line).
                if unlink(delivered.path) == 0 {
                    let quotaInfo = MaildirQuota(folderPath: path)
                    if delivered.size > 0 && quotaInfo.countsFolder(path) {
                        try? quotaInfo.withLock { () throws(MaildirError) in
                            try quotaInfo.add(QuotaUsage(bytes: -delivered.size, messages: -1))
                        }
                    }
                }
                throw error
            }
            return .delivered("delivered to \(path)")
        } catch {
            if error == .quotaExceeded { return .deferred("Maildir over quota.") }
            return error.isTemporary || error.isOutOfSpace ? .deferred("\(error)") : .failed("\(error)")
        }
    }

    /// Whether `new/` or `cur/` already holds a message with this delivery's token.
    static func alreadyDelivered(_ path: String, token: String) -> Bool {
        let marker = "_" + token + "."
        for sub in ["/new", "/cur"] {
            guard let directory = opendir(path + sub) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                // d_name is read in place up to its NUL: copying the whole 256-byte field reads past short
                // records at the end of readdir's buffer (a crash when that is the end of a page).
                let name = String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
                if name.contains(marker) { return true }
            }
        }
        return false
    }

    static func mbox(_ path: String, context: LocalTransport.InstructionContext) -> DeliveryOutcome {
        var existed = stat()
        let isNew = stat(path, &existed) != 0
        do throws(MaildirError) {
            try MboxDelivery.append(mailboxPath: path, attempts: 3, retryDelay: 1) { (writer) throws(MaildirError) in
                try writer.writeRaw(Array((context.lines.fromLine + "\n" + context.lines.deliveredTo + "\n"
                    + context.lines.returnPath + "\n").utf8))
                try writer.writeQuoted(context.request.body)
                try writer.finish()
            }
            if isNew && getuid() == 0 { _ = lchown(path, context.account.uid, context.account.gid) }
            return .delivered("delivered to \(path)")
        } catch {
            return error.isTemporary ? .deferred("\(error)") : .failed("\(error)")
        }
    }
}
