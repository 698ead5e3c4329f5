#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailTools
import MaildirCore

extension MaildropInterpreter {
    /// `to` / `cc` (tools.md §1.9): a pipe, a forward, a maildir or an mbox file. `to` ends the
    /// run with EXITCODE on success; any failure is fatal (exit 75 unless caught).
    /// `'text'` for a POSIX shell (`'` written as `'\''`).
    static func shellQuoted(_ text: String) -> String {
        var quoted = "'"
        for character in text {
            if character == "'" { quoted += "'\\''" } else { quoted.append(character) }
        }
        return quoted + "'"
    }

    func deliver(to target: String, final: Bool) throws(MaildropInterruption) {
        var t = target[...]
        while let f = t.first, f == " " || f == "\t" { t = t.dropFirst() }
        let mailbox = String(t)
        if embedded { throw .fatal("Delivery disabled in embedded mode.") }
        _ = out.flush()
        if mailbox.hasPrefix("|") || mailbox.hasPrefix("!") {
            var command = String(mailbox.dropFirst())
            if mailbox.hasPrefix("!") {
                var sendmail = get("SENDMAIL")
                if sendmail.isEmpty { sendmail = "/usr/sbin/sendmail -oi" }
                // The addresses may come from the message (`!$MATCH1`): each is one quoted word,
                // so nothing in them reaches the shell as syntax.
                let addresses = command.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
                command = sendmail + " -f '' " + addresses.map { Self.shellQuoted(String($0)) }.joined(separator: " ")
            }
            trace(1, "maildrop: Delivering to |\(command)")
            let r = ChildProcess.run(shell: shell, command: command, environment: childEnvironment,
                                     input: .bytes(message), captureOutput: false)
            trace(5, "maildrop: Delivery complete.")
            set("EXITCODE", String(r.status))
            logDelivery(mailbox, ok: r.status == 0)
            if final { throw .terminate(r.status) }
            return
        }
        guard !mailbox.isEmpty else { throw .fatal("Unable to deliver to mailbox.") }
        if message.isEmpty {
            if final { throw .terminate(exitCode()) }
            return
        }
        let umaskValue = get("UMASK")
        let mask = umaskValue.isEmpty ? 0o077 : strtol(umaskValue, nil, 8)
        let oldMask = umask(mode_t(truncatingIfNeeded: mask))
        defer { umask(oldMask) }
        var path = mailbox
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        let maildir = isMaildir(path)
        do throws(MaildirError) {
            if maildir {
                try deliverMaildir(path)
            } else {
                trace(1, "maildrop: Delivering to \(mailbox)")
                trace(5, "maildrop: Flock()ing \(mailbox).")
                trace(5, "maildrop: Appending to \(mailbox).")
                try deliverMbox(path)
            }
        } catch {
            logDelivery(mailbox, ok: false)
            if case .quotaExceeded = error {
                warnAboutQuota(path)
                throw .fatal("maildir over quota.")
            }
            throw .fatal("Unable to deliver to mailbox.")
        }
        if maildir { warnAboutQuota(path) }
        trace(5, "maildrop: Delivery complete.")
        logDelivery(mailbox, ok: true)
        if final { throw .terminate(exitCode()) }
    }

    func isMaildir(_ path: String) -> Bool {
        ["tmp", "new", "cur"].allSatisfy { sub in
            var st = stat()
            return stat(path + "/" + sub, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
    }

    func deliverMaildir(_ path: String) throws(MaildirError) {
        let pending = try PendingMessage(folderPath: path)
        // 2.9.3 ends an unterminated last line with a newline but names the file with the
        // size it counted (S= one less than the file).
        let terminated = message.last == 0x0A
        try pending.write(terminated ? message : message + [0x0A])
        let quotaText = get("MAILDIRQUOTA")
        let quota: QuotaMode = quotaText.isEmpty ? .enforce() : .enforce(newQuota: QuotaSpec(quotaText))
        let flags = String(decoding: get("FLAGS").utf8.filter { $0 >= 0x41 && $0 <= 0x5A }, as: UTF8.self)
        let delivered = try pending.commit(to: flags.isEmpty ? .new : .cur(MessageFlags()), quota: quota)
        var finalPath = delivered.path + flags
        if !terminated {
            let wrong = Array(",S=\(message.count + 1)".utf8)
            var bytes = Array(finalPath.utf8)
            if let start = (0...max(bytes.count - wrong.count, 0)).reversed().first(where: { bytes[$0...].starts(with: wrong) }) {
                bytes.replaceSubrange(start..<(start + wrong.count), with: Array(",S=\(message.count)".utf8))
                finalPath = String(decoding: bytes, as: UTF8.self)
            }
        }
        // Courier keeps the FLAGS letters in the order given.
        if finalPath != delivered.path && rename(delivered.path, finalPath) != 0 {
            throw MaildirError.system(operation: "rename", path: delivered.path, errno: errno)
        }
        applyKeywords(folder: path, deliveredPath: finalPath)
    }

    /// `KEYWORDS` (tools.md §1.4): comma-separated IMAP keywords stored for the delivered
    /// message in the folder's `courierimapkeywords/` (MaildirCore's KeywordStore), under the
    /// file's name without its `:2,` flags. The message is already delivered: a failure here
    /// is reported and does not fail the delivery (a retry would deliver it twice).
    func applyKeywords(folder: String, deliveredPath: String) {
        let keywords = Self.keywordList(get("KEYWORDS"))
        guard !keywords.isEmpty else { return }
        var name = deliveredPath.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? deliveredPath
        if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
        do throws(MaildirError) {
            try KeywordStore(folderPath: folder).update(baseName: name, keywords: keywords)
        } catch {
            printError("maildrop: Unable to save the message's keywords: \(error)\n")
        }
    }

    /// The keywords of a `KEYWORDS` value: split at commas, empty items dropped.
    static func keywordList(_ value: String) -> [String] {
        value.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    /// `-w N`: once the maildir (the parent of a folder) is N % full, a warning message goes
    /// into it, at most once a day (MailTools' QuotaWarning, shared with deliverquota).
    func warnAboutQuota(_ folder: String) {
        guard quotaWarnPercent >= 0 else { return }
        QuotaWarning.deliverIfDue(maildir: folder, percent: quotaWarnPercent, messageFile: quotaWarnFile,
                                  defaultFile: quotaWarnDefaultFile)
    }

    func deliverMbox(_ path: String) throws(MaildirError) {
        var now = time(nil)
        var tmBuffer = tm()
        localtime_r(&now, &tmBuffer)
        var buffer = [CChar](repeating: 0, count: 64)
        _ = asctime_r(&tmBuffer, &buffer)
        var date = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        while date.hasSuffix("\n") { date.removeLast() }
        let sender = get("FROM")
        let bytes = message
        // A new mailbox is created 0666 less UMASK (set by the caller), as Courier does.
        let created = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
        if created >= 0 { close(created) }
        // LOCKSLEEP seconds between attempts, giving up after LOCKTIMEOUT (Courier's 5 and 60).
        let pause = max(1, min(Int(get("LOCKSLEEP")) ?? 5, 3600))
        let timeout = max(0, min(Int(get("LOCKTIMEOUT")) ?? 60, 86_400))
        let attempts = timeout / pause + 1
        // A LOCKEXT other than MboxDelivery's `.lock`: that dot-lock as well, so that programs
        // agreeing on the site's extension exclude each other.
        let ext = get("LOCKEXT")
        var extraLock: String?
        if !ext.isEmpty && ext != ".lock" && !ext.contains("/") {
            let lockPath = path + ext
            try Self.acquireDotLock(lockPath, staleAfter: timeout, timeout: timeout, pollSeconds: pause)
            extraLock = lockPath
        }
        defer { if let extraLock { DotLock.release(lockPath: extraLock) } }
        try MboxDelivery.append(mailboxPath: path, attempts: attempts, retryDelay: UInt32(pause)) { (writer: MboxWriter) throws(MaildirError) in
            try writer.writeRaw(MboxDelivery.fromLine(sender: sender, date: date))
            try writer.writeQuoted(bytes)
            try writer.writeRaw(bytes.last == 0x0A ? [0x0A] : [0x0A, 0x0A])
        }
    }

    /// The logfile entry for a delivery: Date, From, Subj, then File/!Err padded to 72 columns.
    func logDelivery(_ mailbox: String, ok: Bool) {
        guard logFD >= 0 else { return }
        var now = time(nil)
        var buffer = [CChar](repeating: 0, count: 64)
        _ = ctime_r(&now, &buffer)
        var date = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        while date.hasSuffix("\n") { date.removeLast() }
        func header(_ name: String) -> String {
            guard let v = topHeaders(named: [name]).first else { return "" }
            var bytes = v.map { $0 == 0x09 || $0 == 0x0D ? UInt8(0x20) : $0 }[...]
            while bytes.first == 0x20 { bytes = bytes.dropFirst() }
            return String(decoding: bytes.prefix(72), as: UTF8.self)
        }
        let size = "(" + String(message.count) + ")"
        var name = Array(mailbox.utf8)
        let room = 72 - size.utf8.count - 1
        if name.count > room { name = Array(name.prefix(max(room, 0))) }
        let padding = String(repeating: " ", count: max(72 - name.count - size.utf8.count, 1))
        let entry = "Date: \(date)\nFrom: \(header("from"))\nSubj: \(header("subject"))\n"
            + (ok ? "File: " : "!Err: ") + String(decoding: name, as: UTF8.self) + padding + size + "\n\n"
        writeLog(Array(entry.utf8))
    }
}
