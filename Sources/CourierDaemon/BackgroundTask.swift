import Logging
import MailConfig
import ServiceLifecycle

/// Work that runs for the daemon's lifetime without a listener of its own (the queue's
/// delivery scheduler). `run` returns or is cancelled on graceful shutdown; throwing stops
/// the daemon with a failure.
public protocol BackgroundTask: Sendable {
    /// The name in logs (`queue`).
    var name: String { get }
    func run(config: SiteConfig, logger: Logger) async throws
    /// Like `run(config:logger:)`, for tasks that follow reloads (`store.generation`, `updates()`).
    func run(store: ConfigStore, logger: Logger) async throws
    /// Like `run(store:logger:)`; `ready` is called once the task serves (the daemon says
    /// `courier: ready` only after every listener and every task did). By default a task is
    /// ready as soon as it starts.
    func run(store: ConfigStore, logger: Logger, ready: @escaping @Sendable () -> Void) async throws
}

extension BackgroundTask {
    public func run(store: ConfigStore, logger: Logger) async throws {
        try await run(config: store.current, logger: logger)
    }

    public func run(store: ConfigStore, logger: Logger, ready: @escaping @Sendable () -> Void) async throws {
        ready()
        try await run(store: store, logger: logger)
    }
}

/// Runs a `BackgroundTask` as a ServiceLifecycle service, cancelled on graceful shutdown.
struct BackgroundTaskService: Service {
    let task: any BackgroundTask
    let store: ConfigStore
    let logger: Logger
    let gate: ReadyGate

    func run() async throws {
        let gate = self.gate
        try await cancelWhenGracefulShutdown {
            try await task.run(store: store, logger: logger, ready: { gate.markReady() })
        }
    }
}
