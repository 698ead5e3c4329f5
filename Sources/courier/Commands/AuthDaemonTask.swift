#if canImport(Glibc)
import Glibc
#endif
import CourierDaemon
import Logging
import MailAuth
import MailAuthCore
import MailConfig

/// The daemon's authdaemond: serves Courier's authdaemon protocol on
/// `<authdaemonvar>/socket` (default `DIR/var/run/authdaemon/socket`) from the module chain of
/// `etc/authdaemonrc`, for the per-message tools and anything that speaks Courier's protocol.
struct AuthDaemonTask: BackgroundTask {
    let name = "authdaemond"

    func run(config: SiteConfig, logger: Logger) async throws {
        try await run(store: ConfigStore(config), logger: logger)
    }

    func run(store: ConfigStore, logger: Logger) async throws {
        try await run(store: store, logger: logger, ready: {})
    }

    /// Ready once the socket accepts connections, so `courier: ready` means tools can ask it.
    func run(store: ConfigStore, logger: Logger, ready: @escaping @Sendable () -> Void) async throws {
        let config = store.current
        let settings = try AuthDaemonSettings(variables: config.authdaemon, root: config.root)
        // The chain follows SIGHUP reloads; the socket place and `daemons` stay as started.
        let source = try AuthChainSource(root: config.root, logger: logger, generation: { store.generation })
        let authConfiguration = source.configuration
        let chain = AuthChain(following: source)
        logger.info("modules=\"\(authConfiguration.moduleNames.joined(separator: " "))\" daemons=\(authConfiguration.workers)")
        var server = AuthDaemonServer(socketPath: settings.socketPath, responder: AuthDaemonResponder(chain: chain, logger: logger),
                                      workers: authConfiguration.workers)
        // Run as root, the socket directory (mode 0750) lets the mail group in: deliveries and
        // tools run as the mail owner.
        if getuid() == 0, let group = getgrnam(config.mailGroup) {
            server.directoryGroup = UInt32(group.pointee.gr_gid)
        }
        do {
            try await server.run(logger: logger, listening: ready)
        } catch {
            logger.error("cannot serve \(settings.socketPath): \(error)")
            throw error
        }
    }
}
