#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailAuthCore
import MailConfig
import ToolSupport

/// The `maildrop` command (tools.md §1.1–§1.2): manual mode `maildrop [opts] FILE args…`,
/// embedded mode `-m FILE`, delivery mode `-d USER` (or no file: the invoking user).
public enum MaildropTool {
    public static let tempFail: Int32 = 75
    public static let noUser: Int32 = 67
    /// Courier's GLOBAL_TIMEOUT: a whole run may take at most this many seconds.
    public static let globalTimeout: UInt32 = 300

    struct Options {
        var embedded = false
        var deliveryUser: String?
        var from: String?
        var extraHeaders: [String] = []
        var file: String?
        var arguments: [String] = []
        /// `-M NAME` with every `/` and `.` turned into `:` (EmbeddedFilter.swift).
        var embeddedFilter: String?
        /// `-V N`: the initial debug level.
        var verbose = 0
        /// `-w N` (-1: off) and `-W file`.
        var warnPercent = -1
        var warnFile: String?
        /// `-a`: a temporary authlib failure is a temporary error even for a passwd user.
        var authlibEssential = false
    }

    /// The entry `courier maildrop` (and a `maildrop` link to `courier`) runs.
    public static let entry = ToolEntry(name: "maildrop", summary: "filter and deliver a message (maildrop filter language)") { run($0) }

    public static func run(_ argv: [String]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGALRM) { _ in
            // Only async-signal-safe calls here: a static string, write(2), _exit(2).
            let text: StaticString = "maildrop: Timeout quota exceeded.\n"
            _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
            _exit(75)
        }
        alarm(globalTimeout)
        var options = Options()
        var i = 1
        while i < argv.count {
            let a = argv[i]
            if a == "--" { i += 1; break }
            guard a.hasPrefix("-"), a.count > 1 else { break }
            let letter = a.dropFirst().first!
            var value: String? = a.count > 2 ? String(a.dropFirst(2)) : nil
            let takesValue = "AdDfMVwWt".contains(letter)
            if takesValue && value == nil {
                i += 1
                guard i < argv.count else { return usage() }
                value = argv[i]
            }
            switch letter {
            case "A": options.extraHeaders.append(value ?? "")
            case "d": options.deliveryUser = value
            case "f": options.from = value
            case "m": options.embedded = true
            case "V": options.verbose = MaildropInterpreter.level(value ?? "")
            case "w": if let v = value, !v.isEmpty { options.warnPercent = MaildropInterpreter.level(v) }
            case "W": if let v = value, !v.isEmpty { options.warnFile = v }
            case "a": options.authlibEssential = true
            case "t", "D": break
            case "M":
                // Special embedded mode: implies delivery mode for the invoking user.
                guard let name = value, !name.isEmpty else { return usage() }
                options.embedded = true
                if options.deliveryUser == nil { options.deliveryUser = "" }
                options.embeddedFilter = EmbeddedFilter.transformedName(name)
            case "h":
                // Courier's help: the two usage lines on stdout, exit 75.
                print("Usage: maildrop [options] [-d user] [arg] [arg] ...")
                print("       maildrop [options] [filterfile [arg] [arg] ...")
                return tempFail
            case "v":
                print("maildrop (Courier for Swift) - embedded mode, maildir and mbox delivery")
                return 0
            default: return usage()
            }
            i += 1
        }
        if i < argv.count, options.deliveryUser == nil {
            options.file = argv[i]
            options.arguments = Array(argv[(i + 1)...])
        } else {
            options.arguments = Array(argv[min(i, argv.count)...])
        }
        let environment = ConfigRoot.processEnvironment()
        var message = readStandardInput()
        if !options.extraHeaders.isEmpty {
            var prefix: [UInt8] = []
            for h in options.extraHeaders { prefix += Array(h.utf8) + [0x0A] }
            message = prefix + message
        }
        let (status, flushed) = execute(options, message: message, environment: environment)
        _ = flushed
        return status
    }

    static func usage() -> Int32 {
        printError("maildrop: Bad command line arguments, -h for help.\n")
        return tempFail
    }

    static func fail(_ text: String, status: Int32 = tempFail) -> Int32 {
        printError("maildrop: \(text)\n")
        return status
    }

    static func readStandardInput() -> [UInt8] {
        ByteInput.readAll(fd: 0) ?? []
    }

    /// Sets up the variables, reads the filter and runs it; returns the exit status.
    static func execute(_ options: Options, message: [UInt8], environment: [String: String]) -> (Int32, Bool) {
        var filterPath: String
        var home = environment["HOME"] ?? ""
        var logName = environment["LOGNAME"] ?? environment["USER"] ?? ""
        var variables: [String: String] = [:]
        var delivery = false
        var defaultMailbox = "./Maildir"
        // -V, then (manual mode) a VERBOSE in the environment, as Courier reads them.
        var verbose = options.verbose
        if options.file != nil, let v = environment["VERBOSE"] { verbose = MaildropInterpreter.level(v) }
        func note(_ level: Int, _ text: String) { if verbose >= level { printError(text + "\n") } }
        var shell = (environment["SHELL"].flatMap { $0.isEmpty ? nil : $0 }) ?? "/bin/sh"
        if let file = options.file {
            filterPath = file
            variables = environment
            // Courier imports the environment first and then resets its own variables: HOME,
            // LOGNAME and SHELL are the invoking user's passwd entry, PATH, SENDMAIL, the lock
            // parameters, UMASK and MAILDIRQUOTA their defaults (below), whatever the
            // environment said.
            if let user = PasswdEntry(uid: getuid()) {
                home = user.home
                logName = user.name
                shell = user.shell.isEmpty ? "/bin/sh" : user.shell
            }
            variables["MAILDIRQUOTA"] = ""
        } else {
            delivery = true
            // No -d (or -M): the invoking user.
            let selfDelivery = options.deliveryUser?.isEmpty ?? true
            let user = selfDelivery ? logName : options.deliveryUser ?? logName
            var found: Account?
            do throws(LookupTrouble) {
                found = try lookupUser(user, environment: environment, authlibEssential: options.authlibEssential)
            } catch {
                // Run for our own account (the local transport has already resolved it and
                // set HOME): the HOME rule below applies. Else the mail waits.
                guard selfDelivery, !home.isEmpty, !options.authlibEssential else {
                    return (fail("Temporary authentication failure."), false)
                }
            }
            // Run by the MTA for a `| maildrop` line (no -d): the account is the one the local
            // transport set up, HOME and USER in the environment (virtual accounts share a uid,
            // so the uid cannot name them). Courier's maildrop takes HOME from the environment
            // for its own user too.
            if found == nil, selfDelivery, !home.isEmpty {
                found = Account(uid: nil, gid: nil, home: home, maildir: nil,
                                quota: environment["MAILDIRQUOTA"].flatMap { $0.isEmpty ? nil : $0 })
            }
            guard let account = found else {
                // Courier prints this one without the program name.
                printError("Invalid user specified.\n")
                return (noUser, false)
            }
            home = account.home
            logName = user
            // Run as the mail's owner, as Courier's maildrop does when started by root.
            if getuid() == 0 || geteuid() == 0, let uid = account.uid {
                let gid = account.gid ?? uid
                _ = setgroups(0, nil)
                guard setgid(gid) == 0, setuid(uid) == 0 else {
                    return (fail("Unable to set the user's uid/gid."), false)
                }
            }
            // Courier's rules: `-d USER` needs the power to become USER (root); a user may only
            // name themselves. Programs of a delivery never run as root (embedded mode runs none).
            if !selfDelivery, let uid = account.uid, getuid() != uid || geteuid() != uid {
                return (fail("Cannot set my user or group id."), false)
            }
            if !options.embedded && (getuid() == 0 || geteuid() == 0) {
                return (fail("Cannot deliver mail as root."), false)
            }
            if let maildir = account.maildir { defaultMailbox = maildir }
            if let quota = account.quota { variables["MAILDIRQUOTA"] = quota }
            for (k, v) in environment where k == "LANG" || k == "LANGUAGE" || k.hasPrefix("LC_") { variables[k] = v }
            note(2, "maildrop: Changing to \(home)")
            guard chdir(home) == 0 else { return (fail("Unable to change to home directory."), false) }
            if let problem = homeProblem() { return problem.isEmpty ? (tempFail, false) : (fail(problem), false) }
            filterPath = ".mailfilter"
            if let name = options.embeddedFilter {
                if let problem = EmbeddedFilter.checkDirectory() { return (fail(problem), false) }
                filterPath = name
            }
            if let envDefault = environment["MAILDROPDEFAULT"], !envDefault.isEmpty { defaultMailbox = envDefault }
        }
        variables["HOME"] = home
        variables["LOGNAME"] = logName
        variables["DEFAULT"] = defaultMailbox
        variables["SHELL"] = shell
        variables["PATH"] = "/bin:/usr/bin:/usr/local/bin"
        variables["SENDMAIL"] = "/usr/sbin/sendmail -oi"
        variables["LOCKEXT"] = ".lock"
        variables["LOCKSLEEP"] = "5"
        variables["LOCKTIMEOUT"] = "60"
        variables["LOCKREFRESH"] = "15"
        variables["UMASK"] = "077"
        variables["HOSTNAME"] = hostName()
        variables["MAILFILTER"] = filterPath
        variables["EXITCODE"] = "0"
        variables["FROM"] = options.from ?? envelopeSender(message)
        for (n, a) in options.arguments.enumerated() { variables[String(n + 1)] = a }

        let interpreter = MaildropInterpreter(message: message, fileName: filterPath, environment: environment,
                                              embedded: options.embedded)
        interpreter.variables = variables
        interpreter.updateMessageVariables()
        interpreter.verboseLevel = verbose
        interpreter.deliveryMode = delivery
        interpreter.quotaWarnPercent = options.warnPercent
        interpreter.quotaWarnFile = options.warnFile
        let configRoot = ConfigRoot.resolve(explicit: nil, environment: environment)
        // The site's maildroprcs files lift embedded mode's restrictions, except in a delivery
        // that still runs as root (`-M` started by root; any other delivery as root was
        // refused above): programs and deliveries of a delivery never run as root.
        if !(delivery && (getuid() == 0 || geteuid() == 0)) {
            interpreter.trustedIncludeDirectory = configRoot.etc("maildroprcs") + "/"
        }
        let resettable = ["DEFAULT", "HOME", "LOCKEXT", "LOCKSLEEP", "LOCKTIMEOUT", "LOCKREFRESH", "LOGNAME", "PATH",
                          "SENDMAIL", "SHELL", "UMASK", "MAILDIRQUOTA"]
        for name in resettable { if let v = variables[name] { interpreter.resetValues[name] = v } }
        if options.warnPercent >= 0 {
            interpreter.quotaWarnDefaultFile = configRoot.etc("quotawarnmsg")
        }
        note(2, "Message envelope sender=\(interpreter.get("FROM"))")

        var statements: [MaildropStatement] = []
        // Delivery mode runs the site's etc/maildroprc first (tools.md §1.1).
        var siteStatements: [MaildropStatement] = []
        if delivery && options.embeddedFilter == nil {
            let rc = configRoot.etc("maildroprc")
            let bytes = ByteInput.readFile(rc)
            // Only a missing file is skipped: one the account cannot read must not let its mail
            // bypass the site's rules (Courier: tempfail).
            if bytes == nil, access(rc, F_OK) == 0 || errno != ENOENT {
                return (fail("Error opening \(rc)."), false)
            }
            if let bytes {
                do {
                    siteStatements = try MaildropParser.parse(bytes)
                } catch {
                    reportSyntax(file: rc, error)
                    return (tempFail, false)
                }
            }
        }
        var filterFile = FilterFile.missing
        if let name = options.embeddedFilter {
            // -M: .mailfilters/NAME, then the "-default" fallbacks; only a missing file moves on.
            for candidate in EmbeddedFilter.candidates(name) {
                let path = EmbeddedFilter.directory + "/" + candidate
                note(2, "maildrop: Attempting \(path)")
                filterFile = readFilter(path, optional: true)
                if case .missing = filterFile { continue }
                interpreter.currentFile = path
                filterPath = path
                break
            }
        } else {
            note(2, "maildrop: Attempting \(filterPath)")
            filterFile = readFilter(filterPath, optional: delivery)
        }
        switch filterFile {
        case .missing:
            break
        case .failed(let text):
            return (fail(text), false)
        case .contents(let bytes):
            do {
                statements = try MaildropParser.parse(bytes, embedded: options.embedded)
            } catch {
                reportSyntax(file: filterPath, error)
                return (tempFail, false)
            }
        }
        defer { _ = interpreter.out.flush() }
        do throws(MaildropInterruption) {
            do throws(MaildropInterruption) {
                try interpreter.run(siteStatements)
            } catch {
                // Courier: a final delivery (or `exit`) in the site's maildroprc ends the run
                // with status 0, whatever EXITCODE says.
                if case .terminate = error { return (0, true) }
                throw error
            }
            try interpreter.run(statements)
            if options.embedded { return (interpreter.exitCode(), true) }
            let target = interpreter.get("DEFAULT")
            guard !target.isEmpty else {
                _ = interpreter.out.flush()
                return (fail("DEFAULT mailbox not defined."), false)
            }
            try interpreter.deliver(to: target, final: true)
            return (interpreter.exitCode(), true)
        } catch {
            _ = interpreter.out.flush()
            switch error {
            case .terminate(let code): return (code, true)
            // An empty text: the error was already reported (`FILE(LINE): …`).
            case .fatal(let text): return (text.isEmpty ? tempFail : fail(text), false)
            case .syntax(let file, let e):
                reportSyntax(file: file, e)
                return (tempFail, false)
            }
        }
    }

    /// Courier's checks of the home directory maildrop just changed to, in its order: nil when
    /// fine, "" for a sticky-bit home (mail is held: exit 75 without a word), else the message.
    static func homeProblem() -> String? {
        var st = stat()
        guard stat(".", &st) == 0 else { return "Cannot stat() home directory." }
        if st.st_mode & S_IFMT != S_IFDIR { return "Home directory is not a directory." }
        if st.st_mode & 0o002 != 0 { return "Invalid home directory permissions - world writable." }
        if st.st_uid != getuid() { return "Home directory owned by wrong user." }
        if st.st_mode & S_ISVTX != 0 { return "" }
        return nil
    }

    static func reportSyntax(file: String, _ error: MaildropSyntaxError) {
        if let preface = error.preface { printError(preface + "\n") }
        printError("\(file)(\(error.line)): \(error.message)\n")
    }

    enum FilterFile {
        case missing
        case failed(String)
        case contents([UInt8])
    }

    /// Courier's filter-file rules: a regular file owned by us, with no group or world bits.
    static func readFilter(_ path: String, optional: Bool) -> FilterFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT && optional { return .missing }
            return .failed("Unable to open filter file, errno=\(errno).")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failed("Unable to open filter file, errno=\(errno).") }
        if st.st_mode & S_IFMT != S_IFREG { return .failed("mailfilter file isn't a regular file.") }
        if st.st_mode & 0o077 != 0 {
            return .failed("Cannot have world/group permissions on the filter file - for your own good.")
        }
        if st.st_uid != getuid() { return .failed("mailfilter file is owned by the wrong user.") }
        guard let bytes = ByteInput.readAll(fd: fd) else { return .failed("Unable to read filter file.") }
        return .contents(bytes)
    }

    /// `Return-Path:` of the message (one `<` skipped, up to `>` or a blank), else MAILER-DAEMON.
    static func envelopeSender(_ message: [UInt8]) -> String {
        var i = 0
        while i < message.count {
            var j = i
            while j < message.count && message[j] != 0x0A { j += 1 }
            let line = message[i..<j]
            if line.isEmpty || line == [0x0D] { break }
            let prefix = Array("return-path:".utf8)
            if line.count >= prefix.count, zip(line.prefix(prefix.count), prefix).allSatisfy({ ($0.0 | 0x20) == $0.1 || $0.0 == $0.1 }) {
                var v = line.dropFirst(prefix.count)
                while let f = v.first, f == 0x20 || f == 0x09 { v = v.dropFirst() }
                if v.first == UInt8(ascii: "<") { v = v.dropFirst() }
                let end = v.firstIndex { $0 == UInt8(ascii: ">") || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } ?? v.endIndex
                return String(decoding: v[v.startIndex..<end], as: UTF8.self)
            }
            i = j + 1
        }
        return "MAILER-DAEMON"
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    struct Account {
        var uid: uid_t?
        var gid: gid_t?
        var home: String
        var maildir: String?
        var quota: String?
    }

    /// `-d USER`: the daemon's authdaemon socket, else the userdb file (AccountLookup), else
    /// the passwd entry.
    static func lookupUser(_ user: String, environment: [String: String], authlibEssential: Bool = false)
        throws(LookupTrouble) -> Account? {
        let root = ConfigRoot.resolve(explicit: nil, environment: environment)
        var trouble = false
        do throws(ConfigError) {
            switch try AccountLookup(root: root).lookup(user: user) {
            case .found(let account):
                if let home = account.home {
                    return Account(uid: account.uid.flatMap { uid_t($0) }, gid: account.gid.flatMap { gid_t($0) },
                                   home: home, maildir: account.maildir, quota: account.quota)
                }
            case .notFound:
                break
            case .temporaryFailure:
                trouble = true
            }
        } catch {
            // An authdaemonrc that is there but cannot be read or parsed: the account database
            // cannot answer now either (a missing one means the defaults).
            trouble = true
        }
        // `-a`: authlib must answer. Without it passwd is asked, but a user passwd does not
        // know is only "unknown" (67, a bounce) when authlib said so; after a temporary
        // failure the mail waits (75) instead of bouncing.
        if trouble && authlibEssential { throw LookupTrouble() }
        guard let pw = PasswdEntry(name: user) else {
            if trouble { throw LookupTrouble() }
            return nil
        }
        return Account(uid: pw.uid, gid: pw.gid, home: pw.home, maildir: nil, quota: nil)
    }

    /// The account database could not answer now (authdaemon down, userdb unreadable…).
    struct LookupTrouble: Error {}
}
