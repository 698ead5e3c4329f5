import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the config on SIGHUP: re-reads and validates the whole root, logs the outcome,
/// and keeps the old config when the new one is bad.
struct ReloadService: Service {
    let store: ConfigStore
    let logger: Logger
    /// Installed before the daemon says ready, so an early SIGHUP never kills it.
    let signals: UnixSignalsSequence

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            reloadNow()
        }
    }

    func reloadNow() {
        logger.info("SIGHUP: reloading configuration from \(store.current.root)")
        switch store.reload() {
        case .success(let config):
            for warning in config.warnings {
                logger.warning("\(warning); line skipped")
            }
            logger.info("configuration reloaded (\(config.enabledListeners.count) services enabled)")
        case .failure(let error):
            for problem in error.errors {
                logger.error("reload failed: \(problem)")
            }
            logger.error("reload failed: keeping the previous configuration")
        }
    }
}

/// Says `courier: ready (root DIR, N services)` once every service has bound its sockets,
/// then stays until graceful shutdown.
struct ReadyAnnouncer: Service {
    let gate: ReadyGate
    let sink: MailLogSink
    let root: String
    let serviceCount: Int

    func run() async throws {
        guard await gate.wait() else { return }
        let noun = serviceCount == 1 ? "service" : "services"
        sink.announce("courier: ready (root \(root), \(serviceCount) \(noun))")
        try? await gracefulShutdown()
    }
}
