import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SMTPClient

/// What one connection to one server came to.
public enum ConnectionResult: Sendable, Equatable {
    /// The transaction ran (maybe cut short): one result per recipient.
    case transaction([RecipientResult])
    /// The server would not take mail at all (greeting, EHLO, STARTTLS, AUTH).
    case refused(SessionFailure)
    /// No SMTP conversation happened (connect failed, closed before the transaction).
    case unreachable(String)
    /// The server offered STARTTLS, then the handshake failed or the server dropped us during
    /// it (spec/mta.md §5.3.4: "broken STARTTLS"); no mail was sent.
    case tlsFailed(String)
}

/// Timeouts (spec/mta.md §5.3.5; `esmtptimeout*` control files, seconds).
public struct ClientTimeouts: Sendable, Equatable {
    public var connect: Int64 = 60
    public var hello: Int64 = 300
    public var command: Int64 = 600
    public var data: Int64 = 300
    public var quit: Int64 = 10

    public init() {}
}

/// Runs a `ClientSession` over TCP (and STARTTLS): one transaction on a new connection, which
/// afterwards goes to `pool` for the next message to the same server (or QUIT without one).
public enum SMTPClientConnection {
    public static func run(host: String, address: String, port: Int, source: String?,
                           settings: ClientSettings, transaction: ClientTransaction, timeouts: ClientTimeouts,
                           certificateCheck: TLSCertificateCheck? = nil,
                           group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async -> ConnectionResult {
        await run(host: host, address: address, port: port, source: source, settings: settings,
                  transaction: transaction, timeouts: timeouts, certificateCheck: certificateCheck, reuse: nil,
                  group: group)
    }

    /// Where a session goes after its transaction: the pool, under `key`, for `keepAlive` seconds.
    struct Reuse {
        var pool: SMTPSessionPool
        var key: SMTPSessionPool.Key
        var keepAlive: Int64
        /// `esmtptimeoutkeepaliveping`: RSET this often while idle (0 = never).
        var ping: Int64 = 0
    }

    static func run(host: String, address: String, port: Int, source: String?,
                    settings: ClientSettings, transaction: ClientTransaction, timeouts: ClientTimeouts,
                    certificateCheck: TLSCertificateCheck?, reuse: Reuse?,
                    heloLookup: (@Sendable (String) async -> String)? = nil,
                    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async -> ConnectionResult {
        let target: SocketAddress
        do {
            target = try SocketAddress(ipAddress: address, port: port)
        } catch {
            return .unreachable("bad address \(address)")
        }
        let promise = group.next().makePromise(of: ConnectionResult.self)
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(timeouts.connect))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if settings.tls == .implicit {
                        // `/SECURITY=SMTPS`: TLS from the first byte (RFC 8314 §3.3).
                        try channel.pipeline.syncOperations.addHandler(
                            try SMTPClientHandler.tlsHandler(host: host, check: certificateCheck))
                    }
                    let idle = max(timeouts.hello, timeouts.command, timeouts.data)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(idle)))
                    // `esmtphelo` `*`: the session starts once the local address's name is known.
                    guard heloLookup == nil else { return }
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPClientHandler(host: host, settings: settings, transaction: transaction,
                                          quitTimeout: timeouts.quit, certificateCheck: certificateCheck,
                                          reuse: reuse, promise: promise))
                }
            }
        if let source, let local = try? SocketAddress(ipAddress: source, port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        if heloLookup != nil {
            // Nothing is read (the greeting waits in the socket) until the session is set up.
            bootstrap = bootstrap.channelOption(.autoRead, value: false)
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: target).get()
        } catch {
            promise.succeed(.unreachable("connect to \(host) [\(address)]:\(port): \(error)"))
            return (try? await promise.futureResult.get()) ?? .unreachable("connection failed")
        }
        if let heloLookup {
            var named = settings
            named.heloName = await heloLookup(channel.localAddress?.ipAddress ?? "")
            let settings = named
            do {
                try await channel.eventLoop.submit {
                    guard channel.isActive else {
                        promise.succeed(.unreachable("connection to \(host) [\(address)]:\(port) closed"))
                        return
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPClientHandler(host: host, settings: settings, transaction: transaction,
                                          quitTimeout: timeouts.quit, certificateCheck: certificateCheck,
                                          reuse: reuse, promise: promise))
                    channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                }.get()
            } catch {
                promise.succeed(.unreachable("connection to \(host) [\(address)]:\(port): \(error)"))
                channel.close(promise: nil)
            }
        }
        return (try? await promise.futureResult.get()) ?? .unreachable("connection failed")
    }
}
