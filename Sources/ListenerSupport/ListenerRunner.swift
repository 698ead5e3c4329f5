import CourierDaemon
import MailConfig
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The life of one listener's sockets, shared by SMTP, IMAP, POP3 and metrics: bind every
/// endpoint of the listener, announce `SERVICE listening on ADDRESS:PORT` per endpoint, mark
/// the service ready, serve until graceful shutdown, then close the sockets.
///
/// An endpoint without an address binds `::` (all IPv6 and, dual-stack, IPv4 addresses) and
/// falls back to `0.0.0.0` on hosts without IPv6. A socket that cannot be bound stops the
/// service with a `ListenerStartError` naming the service, address, port and reason.
public struct ListenerRunner: Sendable {
    public let listener: ListenerConfig
    public let context: ServiceContext
    /// The accept queue length (listen(2) backlog).
    public var backlog: Int32 = 256
    /// TCP_NODELAY on accepted connections (line protocols answer small replies promptly). An
    /// IPPROTO_TCP option: as a SOL_SOCKET option the same number is SO_DEBUG.
    public var noDelay = true

    public init(listener: ListenerConfig, context: ServiceContext) {
        self.listener = listener
        self.context = context
    }

    /// Binds, announces, serves until graceful shutdown. `initializer` sets up the pipeline
    /// of each accepted connection.
    public func run(
        childInitializer initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) async throws {
        var channels: [Channel] = []
        do {
            for endpoint in listener.endpoints {
                let channel = try await bind(endpoint, initializer: initializer)
                channels.append(channel)
                let port = channel.localAddress?.port ?? endpoint.port
                context.announceListening(listener.kind, on: ListenEndpoint(address: endpoint.address, port: port))
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        context.markReady()
        try? await gracefulShutdown()
        for channel in channels { try? await channel.close() }
    }

    private func bind(_ endpoint: ListenEndpoint,
                      initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) async throws -> Channel {
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        if noDelay {
            bootstrap = bootstrap.childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        }
        bootstrap = bootstrap.childChannelInitializer(initializer)
        do {
            do {
                return try await bootstrap.bind(host: endpoint.address ?? "::", port: endpoint.port).get()
            } catch where endpoint.address == nil && (error as? IOError)?.errnoCode != EADDRINUSE {
                // No IPv6 on this host: all IPv4 addresses instead.
                return try await bootstrap.bind(host: "0.0.0.0", port: endpoint.port).get()
            }
        } catch {
            throw ListenerStartError(service: listener.kind.rawValue, endpoint: endpoint, reason: Self.reason(error))
        }
    }

    /// The system's words for a bind failure ("address already in use"), without NIO's
    /// call-site decoration.
    static func reason(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            return ListenerStartError.systemReason(errno: ioError.errnoCode)
        }
        return "\(error)"
    }
}
