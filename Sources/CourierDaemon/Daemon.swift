import Logging
import MailConfig
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `courier start`: loads and validates the config root, then runs every enabled service in
/// one ServiceGroup. SIGTERM and SIGINT stop gracefully (exit 0), SIGHUP reloads the config.
/// Logs go to stderr and `var/log/courier.log`.
public struct Daemon: Sendable {
    /// Exit status when the configuration is bad (sysexits EX_CONFIG, as Courier's tools use).
    public static let exitConfigError: Int32 = 78
    /// Exit status when a service fails.
    public static let exitServiceFailure: Int32 = 1

    public let root: ConfigRoot
    public let registry: ServiceRegistry
    public let logLevel: Logger.Level
    /// Services without a listener (the queue runner), started after the listeners.
    public let backgroundTasks: [any BackgroundTask]

    public init(root: ConfigRoot, registry: ServiceRegistry = .standard, logLevel: Logger.Level = .info,
                backgroundTasks: [any BackgroundTask] = []) {
        self.root = root
        self.registry = registry
        self.logLevel = logLevel
        self.backgroundTasks = backgroundTasks
    }

    /// Runs until stopped; returns the process exit status.
    public func run() async -> Int32 {
        let config: SiteConfig
        do {
            config = try ConfigLoader.load(root)
        } catch {
            reportConfigErrors(error)
            return Self.exitConfigError
        }
        signal(SIGPIPE, SIG_IGN)
        // Every program the daemon runs (deliveries, filters) finds the same root (DESIGN.md).
        setenv(ConfigDefaults.rootEnvironmentVariable, root.path, 1)
        _ = mkdir(root.path + "/var", 0o755)
        _ = mkdir(root.log, 0o750)
        let sink = MailLogSink(path: root.logFile)
        let logger = Logger.mailLog("courier", sink: sink, level: logLevel)
        if !sink.hasFile {
            logger.warning("cannot open \(root.logFile); logging to stderr only")
        }
        logger.info("starting from \(root) (pid \(getpid()))")
        for warning in config.warnings {
            logger.warning("\(warning); line skipped")
        }

        let store = ConfigStore(config)
        var services: [(ServiceKind, any Service)] = []
        let planned = config.enabledListeners.filter { registry.plugin(for: $0.kind) != nil }
        // Every listener and every background task (the authdaemon socket) must be serving.
        let gate = ReadyGate(expected: planned.count + backgroundTasks.count)
        for listener in config.enabledListeners {
            let addresses = listener.endpoints.map(\.description).joined(separator: ", ")
            guard let plugin = registry.plugin(for: listener.kind) else {
                logger.info("\(listener.kind.rawValue) is configured on \(addresses) but not part of this build yet; skipped")
                continue
            }
            let context = ServiceContext(
                config: store, logger: Logger.mailLog(listener.kind.rawValue, sink: sink, level: logLevel),
                sink: sink, gate: gate)
            do {
                services.append((listener.kind, try plugin.makeService(for: listener, context: context)))
            } catch {
                logger.error("\(listener.kind.rawValue): cannot start: \(error)")
                return Self.exitServiceFailure
            }
        }

        let hangups = await UnixSignalsSequence(trapping: .sighup)
        var configurations = services.map { kind, service in
            ServiceGroupConfiguration.ServiceConfiguration(
                service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .cancelGroup, serviceName: kind.rawValue)
        }
        for task in backgroundTasks {
            configurations.append(.init(
                service: BackgroundTaskService(task: task, store: store,
                                               logger: Logger.mailLog(task.name, sink: sink, level: logLevel), gate: gate),
                successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup,
                serviceName: task.name))
        }
        configurations.append(.init(
            service: ReloadService(store: store, logger: logger, signals: hangups),
            successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "reload"))
        configurations.append(.init(
            service: ReadyAnnouncer(gate: gate, sink: sink, root: root.path, serviceCount: services.count),
            successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "ready"))

        var groupLogger = logger
        groupLogger.logLevel = logLevel == .trace ? .trace : .warning
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
            logger: groupLogger))
        do {
            try await group.run()
        } catch let failure as ListenerStartError {
            // One clear line on stderr and in the log; no "ready", exit non-zero.
            sink.announce("courier: \(failure)")
            return Self.exitServiceFailure
        } catch {
            logger.error("stopped after a failure: \(error)")
            return Self.exitServiceFailure
        }
        logger.info("stopped")
        return 0
    }

    /// Prints each problem as `courier: FILE:LINE: reason` and says the daemon will not start.
    private func reportConfigErrors(_ error: ConfigLoadError) {
        let sink = FileAccessProbe.logDirectoryExists(root) ? MailLogSink(path: root.logFile) : MailLogSink(path: nil)
        for problem in error.errors {
            sink.announce("courier: \(problem)")
        }
        sink.announce("courier: configuration errors in \(root); not starting")
    }
}

enum FileAccessProbe {
    static func logDirectoryExists(_ root: ConfigRoot) -> Bool {
        var info = stat()
        return stat(root.log, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
