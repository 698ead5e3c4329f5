#if canImport(Glibc)
import Glibc
#endif
import MailCore
import MaildirCore
import ToolSupport

/// deliverquota's `-w percent` warning (maildirquota.C `maildir_deliver_quota_warning`): when the
/// maildir is at least `percent` full, deliver the warning text (from `-W file` or
/// /etc/quotawarnmsg) into INBOX with `Date:` and `Message-Id:` added, at most once a day
/// (the file `quotawarn` in the maildir remembers when). The warning is delivered even over
/// quota and counted.
///
/// Courier decides on the usage before the message just delivered is counted; we decide on the
/// usage after it, which is what the documentation promises ("if the maildir is N% full after
/// the delivery"). maildrop's `-w`/`-W` use it too, with their own default text file.
public enum QuotaWarning {
    public static func deliverIfDue(maildir: String, percent: Int, messageFile: String?,
                                    defaultFile: String = Deliverquota.defaultWarningFile) {
        let root = MaildirQuota.rootPath(for: maildir)
        let quota = MaildirQuota(folderPath: root)
        guard quota.read() != nil, quota.percentFull() >= percent else { return }

        var text: [UInt8]?
        if let messageFile, !messageFile.isEmpty { text = try? SystemCall.readFile(messageFile, limit: 1 << 20) }
        if text == nil { text = try? SystemCall.readFile(defaultFile, limit: 1 << 20) }
        guard let body = text else { return }

        let stamp = root + "/quotawarn"
        let now = SystemCall.now().seconds
        if let st = SystemCall.status(stamp) {
            if Int64(st.st_mtim.tv_sec) + 86400 > now { return }
        } else if errno != ENOENT {
            return
        }
        let fd = Glibc.open(stamp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { return }
        _ = try? SystemCall.writeAll(fd, [0], path: stamp)
        close(fd)

        var header = Array("Date: ".utf8)
        header += RFC5322Date(epochSeconds: now, offsetMinutes: localOffsetMinutes(now)).formattedBytes
        header += Array("\nMessage-Id: <\(now).overquota@\(SystemCall.hostName())>\n".utf8)
        guard let pending = try? PendingMessage(folderPath: root, uniq: "warn") else { return }
        do {
            try pending.write(header)
            try pending.write(body)
            _ = try pending.commit(to: .new, quota: .countOnly, quotaPolicy: quota)
        } catch {
            pending.abort()
        }
    }

    /// The local zone's offset from UTC at `time`, in minutes (TZ honoured, as Courier's dates).
    static func localOffsetMinutes(_ time: Int64) -> Int {
        var t = time_t(time)
        var tmv = tm()
        guard localtime_r(&t, &tmv) != nil else { return 0 }
        return Int(tmv.tm_gmtoff / 60)
    }
}
