#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore
import ToolSupport

/// Why the filter stops running a statement list.
enum MaildropInterruption: Error {
    /// `to` succeeded or `exit`: end with this status.
    case terminate(Int32)
    /// A fatal error (`maildrop: <message>`, exit 75) unless an `exception` block catches it.
    case fatal(String)
    /// A syntax error in an included file.
    case syntax(file: String, MaildropSyntaxError)
}

/// Runs a parsed filter against one message (tools.md §1.4–§1.9).
public final class MaildropInterpreter {
    /// The maildrop variables.
    public var variables: [String: String] = [:]
    /// The message as it will be delivered (replaced by `xfilter`).
    public private(set) var message: [UInt8]
    /// The environment maildrop started with (for `import`).
    let startEnvironment: [String: String]
    /// Embedded mode (`-m`, `-M`): no deliveries, no default delivery. Lifted while a file
    /// of `trustedIncludeDirectory` runs.
    var embedded: Bool
    /// `etc/maildroprcs/` of the config root: an `include` of a file there (no `.` in its name)
    /// runs without the embedded restrictions and first resets `resetValues` (Courier's rule).
    public var trustedIncludeDirectory: String?
    /// The start-up values of DEFAULT HOME LOCKEXT LOCKSLEEP LOCKTIMEOUT LOCKREFRESH LOGNAME
    /// PATH SENDMAIL SHELL UMASK (and MAILDIRQUOTA when the account has one).
    public var resetValues: [String: String] = [:]
    /// stdout, flushed before any child runs.
    let out = FDOutput(fd: 1)
    var searchLines: [SearchLine]?
    var regexCache: [String: Regex<AnyRegexOutput>] = [:]
    var logFD: Int32 = -1
    var includeDepth = 0
    var database: KeyValueDatabase?
    /// The file whose statements are running (for `FILE(LINE):` messages).
    var currentFile: String
    /// Ends a runaway `while`/`foreach`: Courier bounds a run by time, we also count iterations.
    static let maxLoopIterations = 10_000_000
    static let maxIncludeDepth = 20
    /// The debug level (`VERBOSE`, `-V`): trace messages on stderr (Verbose.swift).
    public var verboseLevel = 0
    /// Where trace messages go (nil: stderr); tests collect them here.
    var traceOutput: ((String) -> Void)?
    /// Delivery mode: assigning VERBOSE leaves the level at 0 (Courier ignores it there).
    public var deliveryMode = false
    /// `-w N` (-1: off) and `-W file`: the quota warning after a maildir delivery.
    public var quotaWarnPercent = -1
    public var quotaWarnFile: String?
    /// The warning text used when `-W` is not given or cannot be read.
    public var quotaWarnDefaultFile = "/etc/quotawarnmsg"
    /// `lookup()` files read in this run, by path (Lookup.swift).
    var lookupCache: [String: LookupFile] = [:]
    /// Compiled pattern options and SimplePatterns per pattern text (PatternCache.swift).
    var patternCache = PatternCache()

    public init(message: [UInt8], fileName: String, environment: [String: String], embedded: Bool) {
        self.message = message
        self.startEnvironment = environment
        self.embedded = embedded
        self.currentFile = fileName
    }

    deinit { if logFD >= 0 { close(logFD) } }

    // MARK: variables

    func get(_ name: String) -> String { variables[name] ?? "" }

    func set(_ name: String, _ value: String) {
        variables[name] = value
        if name == "VERBOSE" { verboseLevel = deliveryMode ? 0 : Self.level(value) }
    }

    /// VERBOSE's value as a level (atoi-like; clamped).
    static func level(_ value: String) -> Int {
        Int(clamping: MaildropValue.integer(value))
    }

    /// Sets SIZE and LINES from the current message.
    func updateMessageVariables() {
        set("SIZE", String(message.count))
        var lines = 0
        for b in message where b == 0x0A { lines += 1 }
        set("LINES", String(lines))
        searchLines = nil
    }

    func replaceMessage(_ bytes: [UInt8]) {
        message = bytes
        updateMessageVariables()
    }

    /// `NAME=value` for every variable: the environment of child processes.
    var childEnvironment: [String] {
        variables.map { $0.key + "=" + $0.value }
    }

    var shell: String {
        let s = get("SHELL")
        return s.isEmpty ? "/bin/sh" : s
    }

    /// `$NAME` / `${NAME}` substitution; `\x` pairs are copied untouched (so `\$` suppresses).
    func substitute(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "$")) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\\") && i + 1 < bytes.count {
                out.append(c)
                out.append(bytes[i + 1])
                i += 2
                continue
            }
            guard c == UInt8(ascii: "$"), i + 1 < bytes.count else {
                out.append(c)
                i += 1
                continue
            }
            let d = bytes[i + 1]
            if d == UInt8(ascii: "{") {
                var j = i + 2
                while j < bytes.count && bytes[j] != UInt8(ascii: "}") { j += 1 }
                if j >= bytes.count { printError("maildrop: Terminating } is missing.\n") }
                let name = String(decoding: bytes[(i + 2)..<min(j, bytes.count)], as: UTF8.self)
                out.append(contentsOf: get(name).utf8)
                i = j + 1
            } else if Self.isNameByte(d) {
                var j = i + 1
                while j < bytes.count && Self.isNameByte(bytes[j]) { j += 1 }
                out.append(contentsOf: get(String(decoding: bytes[(i + 1)..<j], as: UTF8.self)).utf8)
                i = j
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
    }

    // MARK: running

    /// Runs the statements; returns how the filter ended (nil: it fell off the end).
    func run(_ statements: [MaildropStatement]) throws(MaildropInterruption) {
        for s in statements { try execute(s) }
    }

    func exitCode() -> Int32 { Int32(truncatingIfNeeded: MaildropValue.integer(get("EXITCODE"))) }

    func execute(_ statement: MaildropStatement) throws(MaildropInterruption) {
        switch statement.kind {
        case .expression(let e):
            _ = try evaluate(e, line: statement.line)
        case .ifElse(let cond, let then, let otherwise):
            trace(4, line: statement.line, "Evaluating IF condition.")
            let value = try evaluate(cond, line: statement.line)
            trace(4, line: statement.line, "IF evaluated, result=\(value)")
            if MaildropValue.isTrue(value) {
                try run(then)
            } else {
                try run(otherwise)
            }
        case .whileLoop(let cond, let body):
            var n = 0
            while try whileCondition(cond, line: statement.line) {
                n += 1
                if n > Self.maxLoopIterations { throw .fatal("Infinite loop detected.") }
                try run(body)
            }
        case .foreach(let target, let pattern, let body):
            let matches = try foreachMatches(target, pattern, line: statement.line)
            for m in matches {
                set("MATCH", m)
                try run(body)
            }
        case .to(let e):
            let target = try evaluate(e, line: statement.line)
            try deliver(to: target, final: true)
        case .cc(let e):
            let target = try evaluate(e, line: statement.line)
            try deliver(to: target, final: false)
        case .exit:
            throw .terminate(exitCode())
        case .echo(let e):
            let (bytes, newline) = MaildropValue.escapes(try evaluate(e, line: statement.line))
            out.write(bytes)
            if newline { out.write(UInt8(0x0A)) }
        case .log(let e):
            let (bytes, newline) = MaildropValue.escapes(try evaluate(e, line: statement.line))
            writeLog(bytes + (newline ? [0x0A] : []))
        case .logfile(let e):
            let name = try evaluate(e, line: statement.line)
            trace(4, line: statement.line, "Opening logfile \(name)")
            if logFD >= 0 { close(logFD) }
            logFD = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        case .include(let e):
            let path = try evaluate(e, line: statement.line)
            trace(4, line: statement.line, "Opening include file \(path)")
            try include(path, line: statement.line)
        case .xfilter(let e):
            let command = try evaluate(e, line: statement.line)
            trace(1, "maildrop: Filtering through xfilter \(command)")
            try xfilter(command)
        case .system(let e):
            let command = try evaluate(e, line: statement.line)
            trace(1, "maildrop: Executing system command \(command)")
            _ = out.flush()
            let r = ChildProcess.run(shell: shell, command: command, environment: childEnvironment,
                                     input: .devNull, captureOutput: false)
            set("RETURNCODE", String(r.status))
        case .exception(let body):
            trace(4, line: statement.line, "Trapping exceptions.")
            do throws(MaildropInterruption) {
                try run(body)
                trace(4, line: statement.line, "Exception trapping removed.")
            } catch {
                if case .terminate = error { throw error }
                trace(4, line: statement.line, "Trapped exception.")
            }
        case .dotlock(let e, let body):
            let path = try evaluate(e, line: statement.line)
            trace(4, line: statement.line, "Creating dotlock \(path)")
            try withDotLock(path) { () throws(MaildropInterruption) in try run(body) }
        case .flock(let e, let body):
            let path = try evaluate(e, line: statement.line)
            trace(4, line: statement.line, "Creating flock \(path)")
            try withFileLock(path) { () throws(MaildropInterruption) in try run(body) }
        case .importVariable(let name):
            trace(4, line: statement.line, "import  \"\(name)\"")
            set(name, startEnvironment[name] ?? "")
        case .unset(let name):
            trace(4, line: statement.line, "unset \(name)")
            variables[name] = nil
            if name == "VERBOSE" { verboseLevel = 0 }
        }
    }

    func include(_ path: String, line: Int = 0) throws(MaildropInterruption) {
        guard includeDepth < Self.maxIncludeDepth else {
            // Reported against the include statement; as in 2.9.3 an `exception` block catches
            // it, else the run ends with 75 and nothing more is printed.
            _ = out.flush()
            emitTrace("\(currentFile)(\(line)): Too many included files.\n")
            throw .fatal("")
        }
        let savedEmbedded = embedded
        defer { embedded = savedEmbedded }
        if let directory = trustedIncludeDirectory, path.hasPrefix(directory),
           !path.utf8.dropFirst(directory.utf8.count).contains(UInt8(ascii: ".")) {
            // The site's own filters: full powers, and the variables a user's filter may have
            // changed are put back first (they are not restored afterwards).
            embedded = false
            for (name, value) in resetValues.sorted(by: { $0.key < $1.key }) { set(name, value) }
        }
        guard let bytes = ByteInput.readFile(path) else { throw .fatal("Unable to open \(path)") }
        let statements: [MaildropStatement]
        do {
            statements = try MaildropParser.parse(bytes, embedded: embedded)
        } catch {
            throw .syntax(file: path, error)
        }
        includeDepth += 1
        let savedFile = currentFile
        currentFile = path
        defer {
            includeDepth -= 1
            currentFile = savedFile
        }
        try run(statements)
    }

    func xfilter(_ command: String) throws(MaildropInterruption) {
        _ = out.flush()
        let r = ChildProcess.run(shell: shell, command: command, environment: childEnvironment,
                                 input: .bytes(message), captureOutput: true)
        set("RETURNCODE", String(r.status))
        guard r.status == 0 else { throw .fatal("Unable to filter message.") }
        replaceMessage(r.output)
    }

    func backquote(_ command: String) -> String {
        trace(1, "maildrop: Filtering through `\(command)`")
        _ = out.flush()
        let r = ChildProcess.run(shell: shell, command: command, environment: childEnvironment,
                                 input: .bytes(message), captureOutput: true)
        set("RETURNCODE", String(r.status))
        guard r.status == 0 else { return "" }
        var bytes = r.output.map { $0 == 0x0A || $0 == 0x0D ? UInt8(0x20) : $0 }[...]
        while let f = bytes.first, f == 0x20 || f == 0x09 { bytes = bytes.dropFirst() }
        while let l = bytes.last, l == 0x20 || l == 0x09 { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func writeLog(_ bytes: [UInt8]) {
        guard logFD >= 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(logFD, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// The `dotlock` statement: Courier's dot-lock (a unique file linked to the lock name, safe on
    /// NFS; a lock older than LOCKTIMEOUT, or left by a dead process on this host, is stale),
    /// tried every LOCKSLEEP seconds for up to LOCKTIMEOUT, and refreshed every LOCKREFRESH
    /// seconds while the block runs.
    func withDotLock(_ path: String, _ body: () throws(MaildropInterruption) -> Void) throws(MaildropInterruption) {
        let timeout = min(max(MaildropValue.integer(get("LOCKTIMEOUT")), 1), 86_400)
        let sleepTime = min(max(MaildropValue.integer(get("LOCKSLEEP")), 1), 3600)
        let refresh = min(max(MaildropValue.integer(get("LOCKREFRESH")), 0), 86_400)
        do throws(MaildirError) {
            try Self.acquireDotLock(path, staleAfter: timeout, timeout: timeout * 4, pollSeconds: sleepTime)
        } catch .lockTimeout {
            throw .fatal("Timeout creating dot-lock \(path).")
        } catch {
            throw .fatal("Unable to create dot-lock \(path).")
        }
        let refresher = DotLockRefresher(lockPath: path, interval: refresh)
        defer {
            refresher.stop()
            DotLock.release(lockPath: path)
        }
        try body()
    }

    /// Takes the dot-lock `path` (see `DotLock`) through unique files `<pid>.<n>.<host>` in its
    /// directory, trying every `pollSeconds` for up to `timeout` seconds; a lock older than
    /// `staleAfter` seconds is stale. (The `dotlock` statement and mbox delivery's LOCKEXT lock.)
    static func acquireDotLock(_ path: String, staleAfter: Int, timeout: Int, pollSeconds: Int) throws(MaildirError) {
        var directory = "."
        if let slash = path.lastIndex(of: "/") { directory = slash == path.startIndex ? "/" : String(path[..<slash]) }
        let host = SystemCall.hostName()
        var counter = 0
        try DotLock.acquire(lockPath: path, temporaryPath: {
            counter += 1
            return "\(directory)/\(getpid()).\(counter).\(host)"
        }, staleAfter: Int64(staleAfter), timeoutSeconds: Int64(timeout),
           pollMicroseconds: UInt32(clamping: max(pollSeconds, 0) * 1_000_000))
    }

    func withFileLock(_ path: String, _ body: () throws(MaildropInterruption) -> Void) throws(MaildropInterruption) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .fatal("Unable to open \(path) for locking.") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .fatal("Unable to lock \(path).") }
        }
        defer { _ = flock(fd, LOCK_UN) }
        try body()
    }
}
