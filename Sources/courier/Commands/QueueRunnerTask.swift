import CourierDaemon
import Delivery
import DNS
import ESMTPTransport
import Logging
import MailConfig
import MailQueue
import SMTPServer

/// The daemon's queue runner: opens `var/queue` (recovering it), imports `sendmail` drops,
/// and delivers (local transport, esmtp for remote addresses) until shutdown.
struct QueueRunnerTask: BackgroundTask {
    let name = "courierd"
    /// Where the SMTP listeners wait for the queue.
    let shared: SharedQueue

    /// `esmtppercentrelay` as of the start (a changed list applies after a restart).
    static func percentHack(_ config: SiteConfig) -> PercentHackOutput? {
        guard !config.percentRelay.isEmpty else { return nil }
        let router = AddressRouter(site: config)
        return PercentHackOutput(defaultDomain: config.defaultDomain, isPercentDomain: { router.isPercentRelayDomain($0) })
    }

    func run(config: SiteConfig, logger: Logger) async throws {
        let queue: DurableQueue
        do {
            queue = try await DurableQueue.open(directory: config.root.queue, settings: QueueSettings(site: config),
                                                logger: logger)
        } catch {
            // Stopped while still opening: not a failure.
            await shared.publish(nil)
            if Task.isCancelled { return }
            logger.error("cannot open the queue \(config.root.queue): \(error)")
            throw error
        }
        await shared.publish(queue)
        let pending = await queue.messages().count
        logger.info("queue \(config.root.queue) open, \(pending) message\(pending == 1 ? "" : "s") waiting")
        // Accounts only the auth modules know (authpgsql) are looked up there, as Courier's
        // local module asks authlib.
        let router = AddressRouter(site: config, externalAccounts: AuthModuleAccounts.forSite(config))
        // MX loop check: `me`, and whatever `locals`/`hosteddomains` call ours (config_islocal).
        let esmtp = ESMTPTransport(etc: config.root.etc, me: config.me, isLocalHost: { router.isLocalDomain($0) },
                                   resolver: DNSResolver(configuration: .system(environment: ConfigRoot.processEnvironment())),
                                   logger: logger, percentHack: Self.percentHack(config))
        let transport = CourierTransport(local: LocalTransport(router: router), remote: esmtp)
        var dsn = DSNGenerator(queue: queue, report: DSNReport(me: config.me, from: config.dsnFrom, limit: config.dsnLimit), logger: logger)
        // courierd DSNTOAUTHADDR (Courier's courierd ships it as 0).
        dsn.toAuthenticatedAddress = (config.courierd.environment["DSNTOAUTHADDR"].flatMap { Int($0) } ?? 0) != 0
        let scheduler = DeliveryScheduler(queue: queue, agent: transport, bounces: dsn, logger: logger,
                                          suppression: SuppressionStore.shared(for: config.root))
        await withTaskCancellationHandler {
            await scheduler.run()
        } onCancel: {}
        // Outbound sessions kept open for the next message end with QUIT.
        await esmtp.closeSessions()
        await shared.publish(nil)
        await queue.close()
    }
}
