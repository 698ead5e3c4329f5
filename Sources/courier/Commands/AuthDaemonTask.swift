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
        let settings = try AuthDaemonSettings(variables: config.authdaemon, root: config.root)
        let authConfiguration = try AuthConfiguration.load(root: config.root)
        let chain = authConfiguration.makeChain(logger: logger)
        logger.info("modules=\"\(authConfiguration.moduleNames.joined(separator: " "))\"")
        let server = AuthDaemonServer(socketPath: settings.socketPath, responder: AuthDaemonResponder(chain: chain, logger: logger))
        do {
            try await server.run(logger: logger)
        } catch {
            logger.error("cannot serve \(settings.socketPath): \(error)")
            throw error
        }
    }
}
