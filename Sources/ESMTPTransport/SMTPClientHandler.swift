import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SMTPClient

/// Feeds a connection's bytes to a `ClientSession` and carries out its events. It runs one
/// transaction (a job) at a time: the first on the new connection, later ones handed over by
/// the `SMTPSessionPool` when the session was kept open (`startReused`). Between jobs the
/// idle session waits in the pool for `esmtptimeoutkeepalive`, then QUITs.
final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One transaction and where its outcome goes.
    struct Job {
        var transaction: ClientTransaction
        var promise: EventLoopPromise<ConnectionResult>
        /// MAIL FROM was (about to be) sent: a lost connection now defers the recipients.
        var begun = false
        /// On a kept-open session: trouble before MAIL FROM means a stale session, not a refusal.
        var reused = false
        /// The transaction's outcome, handed over once the session is idle again (back in the
        /// pool before the delivery moves on, so the next message to the host finds it).
        var results: [RecipientResult]?
    }

    let host: String
    var session: ClientSession
    var parser = ClientReplyParser()
    /// `esmtptimeoutquit`: how long to wait for the reply to QUIT.
    let quitTimeout: Int64
    /// nil: opportunistic TLS, the certificate is not checked.
    let certificateCheck: TLSCertificateCheck?
    let reuse: SMTPClientConnection.Reuse?
    var job: Job?
    var context: ChannelHandlerContext?
    /// This session as the pool holds it (set while the channel is up).
    var pooled: PooledSMTPSession?
    var inPool = false
    /// Bumped each time the session goes idle, so an old keep-alive timer does nothing.
    var idleGeneration = 0
    var closing = false
    /// When the idle session QUITs (`esmtptimeoutkeepalive` after its last transaction).
    var keepAliveDeadline: NIODeadline?
    /// An `esmtptimeoutkeepaliveping` RSET is out; the session is out of the pool until it is answered.
    var pinging = false
    /// STARTTLS was answered 220 and the handshake has not completed yet.
    var handshaking = false

    init(host: String, settings: ClientSettings, transaction: ClientTransaction, quitTimeout: Int64,
         certificateCheck: TLSCertificateCheck?, reuse: SMTPClientConnection.Reuse?,
         promise: EventLoopPromise<ConnectionResult>) {
        self.host = host
        self.certificateCheck = certificateCheck
        self.quitTimeout = quitTimeout
        self.reuse = reuse
        self.session = ClientSession(settings: settings)
        self.job = Job(transaction: transaction, promise: promise)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if reuse != nil {
            pooled = PooledSMTPSession(channel: context.channel,
                                       handler: NIOLoopBound(self, eventLoop: context.eventLoop))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        leavePool()
        pooled = nil
        self.context = nil
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
                handshaking = true
                do {
                    try context.pipeline.syncOperations.addHandler(
                        try Self.tlsHandler(host: host, check: certificateCheck), position: .first)
                } catch {
                    finish(context, lost: "TLS setup failed: \(error)")
                }
            case .ready:
                if pinging {
                    // The ping was answered 250: idle again, same keep-alive deadline.
                    pinging = false
                    returnToPool(context)
                } else if var job, !job.begun {
                    job.begun = true
                    self.job = job
                    handle(session.begin(job.transaction), context: context)
                } else {
                    // Pooled first, then the outcome: the queue need not wait for QUIT.
                    becameIdle(context)
                    if let results = job?.results { complete(.transaction(results)) }
                }
            case let .finished(results):
                // Reported at the next `.ready` (at once after 250, after RSET's reply otherwise).
                job?.results = results
            case let .failed(failure):
                if let job {
                    if let results = job.results {
                        complete(.transaction(results))
                    } else if job.begun,
                              case let lost = session.connectionLost(failure.reply.text),
                              lost.count == job.transaction.recipients.count {
                        // Mid-transaction (maybe after some VERP parts went): keep what was decided.
                        complete(.transaction(lost))
                    } else {
                        complete(job.reused && !job.begun
                                 ? .unreachable("\(host): kept session refused RSET: \(failure.reply.text)")
                                 : .refused(failure))
                    }
                }
                close(context)
            case .closed:
                close(context)
            }
        }
    }

    /// A delivery took this session from the pool: check it with RSET, then run `transaction`.
    func startReused(_ transaction: ClientTransaction, promise: EventLoopPromise<ConnectionResult>) {
        inPool = false
        guard job == nil, !closing, session.isIdle, let context, context.channel.isActive else {
            promise.succeed(.unreachable("\(host): the kept session has closed"))
            return
        }
        job = Job(transaction: transaction, promise: promise, reused: true)
        handle(session.reset(), context: context)
    }

    /// Idle after a transaction: into the pool for the keep-alive time, else QUIT.
    func becameIdle(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        guard let reuse, reuse.keepAlive > 0 else {
            quit(context)
            return
        }
        keepAliveDeadline = .now() + .seconds(reuse.keepAlive)
        returnToPool(context)
    }

    /// Into the pool until `keepAliveDeadline`, with an RSET every `esmtptimeoutkeepaliveping`
    /// seconds meanwhile (spec/mta.md §5.3.2); QUIT when the pool has no room.
    func returnToPool(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        guard let reuse, let pooled, let deadline = keepAliveDeadline, context.channel.isActive,
              reuse.pool.checkIn(pooled, key: reuse.key) else {
            quit(context)
            return
        }
        inPool = true
        idleGeneration += 1
        let generation = idleGeneration
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: deadline) {
            handler.value.keepAliveEnded(generation)
        }
        if reuse.ping > 0, case let pingTime = NIODeadline.now() + .seconds(reuse.ping), pingTime < deadline {
            context.eventLoop.scheduleTask(deadline: pingTime) {
                handler.value.ping(generation)
            }
        }
    }

    /// `esmtptimeoutkeepaliveping`: RSET on the idle session; a reply other than 250 (or none)
    /// ends it, 250 puts it back in the pool.
    func ping(_ generation: Int) {
        guard inPool, generation == idleGeneration, job == nil, !closing, let context else { return }
        // Not in the pool any more: a delivery has just taken it.
        guard let reuse, let pooled, reuse.pool.remove(pooled, key: reuse.key) else { return }
        inPool = false
        pinging = true
        handle(session.reset(), context: context)
    }

    func keepAliveEnded(_ generation: Int) {
        guard inPool, generation == idleGeneration, job == nil, let context else { return }
        // Not in the pool any more: a delivery has just taken it.
        guard let reuse, let pooled, reuse.pool.remove(pooled, key: reuse.key) else { return }
        inPool = false
        quit(context)
    }

    /// The pool is closing (shutdown): QUIT now if idle.
    func quitIdle() {
        inPool = false
        guard job == nil, !closing, let context else { return }
        quit(context)
    }

    func quit(_ context: ChannelHandlerContext) {
        leavePool()
        closing = true
        handle(session.quit(), context: context)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(quitTimeout)) { channel.close(promise: nil) }
    }

    func leavePool() {
        guard inPool else { return }
        inPool = false
        if let reuse, let pooled { _ = reuse.pool.remove(pooled, key: reuse.key) }
    }

    func complete(_ result: ConnectionResult) {
        guard let job else { return }
        self.job = nil
        job.promise.succeed(result)
    }

    func close(_ context: ChannelHandlerContext) {
        closing = true
        leavePool()
        context.close(promise: nil)
    }

    /// Without a check, opportunistic TLS (spec §5.3.4): any certificate is accepted, an
    /// unverified encrypted channel beats plain text. With one (`ESMTP_TLS_VERIFY_DOMAIN`,
    /// `/SECURITY=STARTTLS`), the chain must lead to the trusted CAs and the certificate must
    /// name `host`, the MX host connected to (an `[ip]` route checks the chain only); a
    /// failed check fails the handshake, and the mail waits: it never goes in the clear.
    static func tlsHandler(host: String, check: TLSCertificateCheck?) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let name = isAddress || host.isEmpty ? nil : host
        let context = try TLSContextCache.shared.context(check: check, nameKnown: name != nil)
        return try NIOSSLClientHandler(context: context, serverHostname: name)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            handshaking = false
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
        pooled = nil
    }

    /// Ends the connection; recipients of a transaction in progress are deferred.
    func finish(_ context: ChannelHandlerContext, lost reason: String) {
        if let job {
            if let results = job.results {
                complete(.transaction(results))
            } else {
                complete(job.begun ? .transaction(session.connectionLost(reason))
                         : handshaking ? .tlsFailed(reason) : .unreachable(reason))
            }
        } else {
            _ = session.connectionLost(reason)
        }
        close(context)
    }
}
