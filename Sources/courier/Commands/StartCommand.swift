#if canImport(Glibc)
import Glibc
#endif
import MailQueue
import ArgumentParser
import CourierDaemon
import Logging

/// `courier start`: runs the site's services in the foreground until SIGTERM/SIGINT.
struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run the mail server in the foreground (SIGTERM/SIGINT stop it, SIGHUP reloads the config).",
        discussion: """
            Reads and checks every file of the config root first; a bad file is reported as \
            FILE:LINE: reason and nothing starts (exit status 78). Logs go to stderr and \
            DIR/var/log/courier.log. When every service listens, prints \
            "courier: ready (root DIR, N services)".
            """)

    @OptionGroup var root: RootOptions

    @Option(help: "Least important log level shown: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level \(logLevel): expected trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        MallocTuning.apply()
        if let problem = AuthConfigurationCheck.problem(root: root.resolved) {
            printToStandardError("courier: \(problem)")
            printToStandardError("courier: configuration errors in \(root.resolved); not starting")
            throw ExitCode(Daemon.exitConfigError)
        }
        // One daemon per root; the make* commands find it through this file.
        var pidFile: Int32?
        do {
            pidFile = try DaemonPidFile.acquire(root.resolved)
        } catch {
            if case .cannotWrite(_, ENOENT) = error {
                pidFile = nil  // no var/ yet: the config check below says what is missing
            } else {
                printToStandardError("courier: \(error)")
                throw ExitCode(1)
            }
        }
        defer { if let pidFile { DaemonPidFile.release(pidFile, root: root.resolved) } }
        let shared = SharedQueue()
        let daemon = Daemon(root: root.resolved, registry: .courier(queue: shared), logLevel: Logger.Level(rawValue: logLevel) ?? .info,
                            backgroundTasks: [QueueRunnerTask(shared: shared), AuthDaemonTask()])
        let status = await daemon.run()
        if status != 0 { throw ExitCode(status) }
    }
}
