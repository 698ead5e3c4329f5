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
        let settings = try AuthDaemonSettings(variables: config.authdaemon, root: config.root)
        let authConfiguration = try AuthConfiguration.load(root: config.root)
        let chain = authConfiguration.makeChain(logger: logger)
        logger.info("modules=\"\(authConfiguration.moduleNames.joined(separator: " "))\"")
        var server = AuthDaemonServer(socketPath: settings.socketPath, responder: AuthDaemonResponder(chain: chain, logger: logger))
        // Run as root, the socket directory (mode 0750) lets the mail group in: deliveries and
        // tools run as the mail owner.
        if getuid() == 0, let group = getgrnam(config.mailGroup) {
            server.directoryGroup = UInt32(group.pointee.gr_gid)
        }
        do {
            try await server.run(logger: logger)
        } catch {
            logger.error("cannot serve \(settings.socketPath): \(error)")
            throw error
        }
    }
}
