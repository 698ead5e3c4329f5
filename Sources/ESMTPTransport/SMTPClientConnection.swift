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

/// Runs one `ClientSession` over TCP (and STARTTLS) for one transaction.
public enum SMTPClientConnection {
    public static func run(host: String, address: String, port: Int, source: String?,
                           settings: ClientSettings, transaction: ClientTransaction, timeouts: ClientTimeouts,
                           certificateCheck: TLSCertificateCheck? = nil,
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
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPClientHandler(host: host, settings: settings, transaction: transaction,
                                          quitTimeout: timeouts.quit, certificateCheck: certificateCheck,
                                          promise: promise))
                }
            }
        if let source, let local = try? SocketAddress(ipAddress: source, port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        do {
            _ = try await bootstrap.connect(to: target).get()
        } catch {
            promise.succeed(.unreachable("connect to \(host) [\(address)]:\(port): \(error)"))
        }
        return (try? await promise.futureResult.get()) ?? .unreachable("connection failed")
    }
}

/// Feeds a connection's bytes to a `ClientSession` and carries out its events.
final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let host: String
    var session: ClientSession
    var parser = ClientReplyParser()
    let transaction: ClientTransaction
    let promise: EventLoopPromise<ConnectionResult>
    /// `esmtptimeoutquit`: how long to wait for the reply to QUIT.
    let quitTimeout: Int64
    /// nil: opportunistic TLS, the certificate is not checked.
    let certificateCheck: TLSCertificateCheck?
    var started = false
    var result: ConnectionResult?

    init(host: String, settings: ClientSettings, transaction: ClientTransaction, quitTimeout: Int64,
         certificateCheck: TLSCertificateCheck?, promise: EventLoopPromise<ConnectionResult>) {
        self.host = host
        self.certificateCheck = certificateCheck
        self.quitTimeout = quitTimeout
        self.session = ClientSession(settings: settings)
        self.transaction = transaction
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let replies: [ClientReply]
        do {
            replies = try parser.feed(bytes)
        } catch {
            finish(context, lost: "Malformed reply from \(host): \(error)")
            return
        }
        for reply in replies {
            handle(session.receive(reply), context: context)
        }
    }

    func handle(_ events: [ClientEvent], context: ChannelHandlerContext) {
        for event in events {
            switch event {
            case let .send(bytes):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .startTLS:
                do {
                    try context.pipeline.syncOperations.addHandler(
                        try Self.tlsHandler(host: host, check: certificateCheck), position: .first)
                } catch {
                    finish(context, lost: "TLS setup failed: \(error)")
                }
            case .ready:
                if !started {
                    started = true
                    handle(session.begin(transaction), context: context)
                } else {
                    handle(session.quit(), context: context)
                    let channel = context.channel
                    context.eventLoop.scheduleTask(in: .seconds(quitTimeout)) { channel.close(promise: nil) }
                }
            case let .finished(results):
                // The outcome is known: the queue need not wait for QUIT.
                result = .transaction(results)
                promise.succeed(.transaction(results))
            case let .failed(failure):
                result = result ?? .refused(failure)
                context.close(promise: nil)
            case .closed:
                context.close(promise: nil)
            }
        }
    }

    /// Without a check, opportunistic TLS (spec §5.3.4): any certificate is accepted, an
    /// unverified encrypted channel beats plain text. With one (`ESMTP_TLS_VERIFY_DOMAIN`,
    /// `/SECURITY=STARTTLS`), the chain must lead to the trusted CAs and the certificate must
    /// name `host`, the MX host connected to (an `[ip]` route checks the chain only); a
    /// failed check fails the handshake, and the mail waits: it never goes in the clear.
    static func tlsHandler(host: String, check: TLSCertificateCheck?) throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let name = isAddress || host.isEmpty ? nil : host
        if let check {
            configuration.certificateVerification = name == nil ? .noHostnameVerification : .fullVerification
            if let roots = check.trustRoots { configuration.trustRoots = .file(roots) }
        } else {
            configuration.certificateVerification = .none
        }
        return try NIOSSLClientHandler(context: try NIOSSLContext(configuration: configuration), serverHostname: name)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            handle(session.tlsEstablished(), context: context)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            finish(context, lost: "Timeout talking to \(host).")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            finish(context, lost: "TLS with \(host) failed: \(error)")
            return
        }
        finish(context, lost: "Connection to \(host) failed: \(error)")
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, lost: "Connection closed by remote host.")
    }

    /// Ends the attempt; recipients still open are deferred.
    func finish(_ context: ChannelHandlerContext, lost reason: String) {
        if result == nil {
            if started {
                result = .transaction(session.connectionLost(reason))
            } else {
                result = .unreachable(reason)
            }
        }
        if let result { promise.succeed(result) }
        context.close(promise: nil)
    }
}
