import CourierDaemon
import ListenerSupport
import Logging
import MailConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The `metrics` listener (DESIGN.md demo site: http://127.0.0.1:9187/metrics): `etc/metrics`
/// gives `ADDRESS` and `PORT`; it announces `metrics listening on ADDRESS:PORT` and serves
/// the process' Prometheus registry until graceful shutdown.
struct MetricsService: Service {
    let listener: ListenerConfig
    let context: ServiceContext
    let registry: PrometheusCollectorRegistry

    func run() async throws {
        let registry = self.registry
        var runner = ListenerRunner(listener: listener, context: context)
        runner.backlog = 64
        runner.noDelay = false
        try await runner.run { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
            }
        }
    }
}

/// The metrics plugin for `courier start`.
public struct MetricsListenerPlugin: ListenerPlugin {
    public let kinds: [ServiceKind] = [.metrics]

    public init() {}

    public func makeService(for listener: ListenerConfig, context: ServiceContext) throws -> any Service {
        MetricsService(listener: listener, context: context, registry: CourierMetrics.registry)
    }
}
