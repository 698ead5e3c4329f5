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
}

/// Runs a `BackgroundTask` as a ServiceLifecycle service, cancelled on graceful shutdown.
struct BackgroundTaskService: Service {
    let task: any BackgroundTask
    let config: SiteConfig
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await task.run(config: config, logger: logger)
        }
    }
}
