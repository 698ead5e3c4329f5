#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import ToolSupport

/// `lockmail`: Courier's lockmail, compatible with the maildrop package's (spec/tools.md §6.2):
///
///     lockmail [-r] [-t timeout] mailbox program [args...]
///
/// Creates the mailbox if needed, takes the three mailbox locks (`MailboxLock`: C-Client lock,
/// dot-lock, fcntl), retrying every 5 seconds (3 minutes by default; `-t` seconds), runs the
/// program while holding them and exits with its status. 75 when the locks cannot be had or the
/// program died of a signal; 1 for usage errors or a program that cannot be started.
public enum Lockmail {
    static let retryDelay: UInt32 = 5
    static let defaultTries = 60

    /// Runs lockmail with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        let me = arguments.first ?? "lockmail"
        var readOnly = false
        var tries = defaultTries
        var i = 1
        // getopt("+rt:"): options until the first non-option; "--" ends them.
        parsing: while i < arguments.count {
            let arg = Array(arguments[i].utf8)
            if arg.count < 2 || arg[0] != UInt8(ascii: "-") { break }
            if arguments[i] == "--" { i += 1; break }
            var j = 1
            while j < arg.count {
                switch arg[j] {
                case UInt8(ascii: "r"):
                    readOnly = true
                    j += 1
                case UInt8(ascii: "t"):
                    var value: String
                    if j + 1 < arg.count {
                        value = String(decoding: arg[(j + 1)...], as: UTF8.self)
                    } else if i + 1 < arguments.count {
                        i += 1
                        value = arguments[i]
                    } else {
                        printError("\(me): option requires an argument -- 't'\n")
                        return 1
                    }
                    let seconds = Deliverquota.atoiPrefix(value)
                    if seconds < 0 {
                        printError("\(me): invalid argument to -t\n")
                        return ExitStatus.tempFail
                    }
                    tries = Int(clamping: seconds / Int64(retryDelay) + 1)
                    i += 1
                    continue parsing
                default:
                    printError("\(me): invalid option -- '\(String(decoding: [arg[j]], as: UTF8.self))'\n")
                    return 1
                }
            }
            i += 1
        }
        if arguments.count - i < 2 {
            printError("Usage: \(me) [-r] [-t time] mailfile program [args]...\n")
            return 1
        }
        let mailbox = arguments[i]
        let command = Array(arguments[(i + 1)...])

        let created = open(mailbox, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if created >= 0 { close(created) }

        for attempt in 0..<tries {
            if attempt > 0 { sleep(retryDelay) }
            switch MailboxLock.attempt(mailboxPath: mailbox, allowReadOnly: readOnly) {
            case .success(let lock):
                let status = runProgram(command)
                lock.release()
                return status
            case .failure(.missing):
                return ExitStatus.tempFail
            case .failure:
                continue
            }
        }
        return ExitStatus.tempFail
    }

    /// Runs `command` (searched in PATH), waits for it; its exit status, 75 if it was killed,
    /// 1 if it could not be started.
    static func runProgram(_ command: [String]) -> Int32 {
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, command[0], nil, nil, argv, environ)
        if rc != 0 {
            printError("\(command[0]): \(SystemCall.errorText(rc))\n")
            return 1
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return ExitStatus.tempFail }
        }
        // WIFEXITED / WEXITSTATUS
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return ExitStatus.tempFail
    }
}
