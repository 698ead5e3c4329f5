#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import ToolSupport

/// `deliverquota`: Courier's deliverquota, compatible with the maildrop package's (spec/tools.md
/// §6.3, access.md §1.11):
///
///     deliverquota [-c] [-w percent] [-W warnfile] maildir [quota]
///
/// Reads one message on standard input and delivers it durably into `maildir` (or a folder of
/// it, charged to the parent's quota). Exit 0 delivered; 77 over quota ("Mail quota exceeded."
/// on stdout, as maildrop's build); 73 usage; 75 for every other failure (a missing maildir,
/// a full disk, an I/O error): the mail transfer agent keeps the message and retries.
public enum Deliverquota {
    /// maildrop's build exits EX_NOPERM over quota (Courier's own build uses EX_TEMPFAIL).
    static let overQuotaStatus: Int32 = 77
    static let usageStatus: Int32 = 73
    /// Where the quota warning text is when `-W` is not given (the maildrop package's SYSCONFDIR).
    public static let defaultWarningFile = "/etc/quotawarnmsg"

    struct Options {
        var autoCreate = false
        var warnPercent = -1
        var warnFile: String?
        var maildir = ""
        var quota: QuotaSpec?
    }

    /// Runs deliverquota with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        var o = Options()
        var i = 1
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "-c" {
                o.autoCreate = true
            } else if arg == "-w" && arguments.count - i > 1 {
                o.warnPercent = Int(clamping: atoiPrefix(arguments[i + 1]))
                i += 1
            } else if arg == "-W" && arguments.count - i > 1 {
                o.warnFile = arguments[i + 1]
                i += 1
            } else {
                break
            }
            i += 1
        }
        if i >= arguments.count || o.warnPercent < -1 || o.warnPercent > 100 {
            printError("Usage: \(arguments.first ?? "deliverquota") [-c] [-w percent] maildir\n")
            return usageStatus
        }
        o.maildir = arguments[i]
        if i + 1 < arguments.count { o.quota = QuotaSpec(arguments[i + 1]) }
        return deliver(o)
    }

    /// atoi(): optional sign and leading digits, 0 otherwise.
    static func atoiPrefix(_ s: String) -> Int64 {
        var bytes = Array(s.utf8)[...]
        while let f = bytes.first, f == 0x20 || f == 0x09 { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        return parseLeadingNumber(bytes)
    }

    static func parseLeadingNumber(_ bytes: ArraySlice<UInt8>) -> Int64 {
        var negative = false
        var b = bytes
        if b.first == UInt8(ascii: "-") { negative = true; b = b.dropFirst() }
        var v: Int64 = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { break }
            v = v > Int64.max / 20 ? Int64.max / 10 : v * 10 + Int64(c - 0x30)
        }
        return negative ? -v : v
    }

    static func overQuota(_ o: Options) -> Int32 {
        if o.warnPercent >= 0 { QuotaWarning.deliverIfDue(maildir: o.maildir, percent: o.warnPercent, messageFile: o.warnFile) }
        let out = FDOutput(fd: 1)
        out.write("Mail quota exceeded.\n")
        out.flush()
        return overQuotaStatus
    }

    static func deliver(_ o: Options) -> Int32 {
        let quota = MaildirQuota(folderPath: o.maildir)
        let counted = quota.countsFolder(o.maildir)
        // A message in a regular file has a known size: refuse it before copying anything.
        var st = stat()
        var knownSize: Int64?
        // maildirsize as read here, handed to the commit: under the quota lock one stat then
        // tells whether it changed meanwhile.
        var reading: QuotaReading?
        if fstat(0, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 {
            let size = Int64(st.st_size) - Int64(max(lseek(0, 0, SEEK_CUR), 0))
            knownSize = size
            if counted {
                reading = quota.reading()
                let check = try? quota.check(adding: QuotaUsage(bytes: size, messages: 1), newQuota: o.quota, current: reading)
                if check == .exceeded { return overQuota(o) }
            }
        }

        var pending: PendingMessage
        var created = false
        while true {
            do {
                pending = try PendingMessage(folderPath: o.maildir)
                break
            } catch {
                if error.errnoValue == ENOENT && o.autoCreate && !created {
                    created = true
                    if (try? Maildir.createWithParents(at: o.maildir)) != nil { continue }
                }
                printError("\(o.maildir): \(SystemCall.errorText(error.errnoValue ?? EIO))\n")
                return ExitStatus.tempFail
            }
        }
        do {
            try pending.write(from: 0, knownSize: knownSize)
            _ = try pending.commit(to: .new, quota: .enforce(newQuota: o.quota), quotaPolicy: quota, quotaReading: reading)
        } catch {
            if error == .quotaExceeded { return overQuota(o) }
            printError("\(error)\n")
            return ExitStatus.tempFail
        }
        if o.warnPercent >= 0 {
            QuotaWarning.deliverIfDue(maildir: o.maildir, percent: o.warnPercent, messageFile: o.warnFile)
        }
        return ExitStatus.ok
    }
}
