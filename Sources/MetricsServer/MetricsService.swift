import CourierDaemon
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
        var channels: [Channel] = []
        for endpoint in listener.endpoints {
            let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                    }
                }
            let channel: Channel
            do {
                channel = try await bootstrap.bind(host: endpoint.address ?? "::", port: endpoint.port).get()
            } catch where endpoint.address == nil {
                channel = try await bootstrap.bind(host: "0.0.0.0", port: endpoint.port).get()
            }
            channels.append(channel)
            let port = channel.localAddress?.port ?? endpoint.port
            context.announceListening(listener.kind, on: ListenEndpoint(address: endpoint.address, port: port))
        }
        context.markReady()
        try? await gracefulShutdown()
        for channel in channels {
            try? await channel.close()
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
