#if canImport(Glibc)
import Glibc
#endif
import MailAuthCore
import MailCore
import Delivery
import Logging
import MailConfig
import MailQueue
import NIOCore
import NIOSSL
import ListenerSupport
import SMTP

/// Everything a connection needs that outlives it: shared by the channels of one listener.
struct SMTPConnectionEnvironment: Sendable {
    var configuration: SMTPSessionConfiguration
    var queue: any MessageQueue
    var lookup: any RecipientLookup
    var policy: RelayPolicy
    var access: ClientAccess
    var tarpit: Bool
    /// For STARTTLS; nil when no certificate is configured.
    var tlsContext: NIOSSLContext?
    var logger: Logger
    /// Read timeout for commands (Courier `esmtptimeout`, 10 min).
    var commandTimeout: TimeAmount = .minutes(10)
    /// SMTP AUTH's back end; nil: every AUTH is rejected.
    var authenticator: SMTPAuthenticator?
    /// `DEFDOMAIN`: appended to login names without `@`.
    var defaultDomain: String = ""
    /// esmtpd-msa: relaying needs a login (smtpaccess' RELAYCLIENT does not count).
    var relayNeedsAuth = false
    /// MAIL FROM checks (`bofh`, `BOFHCHECKDNS`, `BOFHCHECKHELO`).
    var senderPolicy = SenderPolicy(bofh: BofhSettings(), checkDNS: false, checkHelo: 0, resolver: nil)
    /// `BLACKLISTS`: DNS lists asked about each client before the greeting.
    var blockLists: DNSBlockList?
    /// `BOFHHEADERLIMIT`: header section bytes allowed.
    var headerLimit = 100_000
    /// `TLS_EXTERNAL`: the client certificate's subject field that names a login for AUTH
    /// EXTERNAL (with `TLS_VERIFYPEER=PEER` or `REQUIREPEER`); nil = no EXTERNAL.
    var tlsExternalField: String?
    /// Incoming header fields renamed `Old-…` (spec/mta.md §2.13): `Return-Path` always,
    /// `Received-SPF` when we check SPF, `Authentication-Results` under `ALLOW_EXCLUSIVE`.
    var renamedFields = ["return-path"]
    /// `BOFHSUPPRESSBACKSCATTER`: the suppression list and the sources it applies to (nil: none).
    var backscatter: BackscatterSuppression?
}

/// The NIO side of one SMTP session: frames input, drives `SMTPSession`, performs its actions
/// (STYLE.md: handlers decode, call the machine, perform its actions). Replies produced while
/// processing one read are written with one flush (RFC 2920 pipelining). Message bytes go to the
/// queue as they arrive; 250 is sent only after `commit()` returned.
final class SMTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let environment: SMTPConnectionEnvironment
    var session: SMTPSession
    var framer: CommandLineFramer
    var decoder: DataDecoder?
    /// RFC 3030: the BDAT chunks of the message being received (one decoder for all chunks).
    var chunkDecoder: ChunkDecoder?
    /// A refused BDAT's chunk being thrown away: octets still to drop, then this reply.
    var discardRemaining = 0
    var discardReply: SMTPReply?
    var tarpit: Tarpit
    let clientIP: String
    var pending: [UInt8] = []
    /// An async step (lookup, queue, tarpit, TLS) is running: input waits.
    var waiting = false
    var closed = false
    var submission: (any MessageSubmission)?
    /// Writes to the submission run one after another.
    var writeChain: EventLoopFuture<Void>?
    var writeFailed: Error?
    /// Message bytes handed to the queue but not yet written: past `maxInFlight`, reading
    /// stops (autoRead off) until the queue catches up, so a fast client and a slow disk
    /// never pile a message up in memory (STYLE.md "Bodies stream").
    var inFlight = 0
    static let maxInFlight = 1 << 20
    /// Unprocessed input kept while an async step or the tarpit runs; past this, reading stops.
    static let maxPending = 256 << 10
    var readingPaused = false
    /// The client shut its sending side down (half-close): what it sent is still processed and
    /// answered, then the connection closes.
    var inputClosed = false
    var processing = false
    var unflushed = false
    var context: ChannelHandlerContext?
    var idleTimer: Scheduled<Void>?
    /// The SASL exchange of an AUTH command in progress: lines go to it, not to the session.
    var authExchange: SMTPAuthExchange?
    /// `BLOCK` (smtpaccess or a DNS list): when non-empty every RCPT is refused with it.
    var block: String
    /// A DNS allow list listed the client (`ALLOW_0` set).
    var allowListed = false
    /// `Received-SPF:` fields of the current transaction's sender check.
    var senderHeaders: [String] = []
    /// The MAIL FROM SPF check of this transaction gave `pass` or `error` (`mailfromok`).
    var mailFromPassedSPF = false
    /// `BOFHSPFFROM` applies to the message being received and has not run yet.
    var checksFromHeader = false
    /// The `From:` check refused the message being received: answered at the end of the data.
    var fromRefusal: SMTPReply?
    /// Judges the header section of the message being received (size, routing loops).
    var headerInspector = HeaderInspector()
    var fieldRenamer = HeaderFieldRenamer(renaming: [])
    /// RCPT addresses whose alias expansion reaches a `bofh spamtrap` (spec/mta.md §2.14).
    var spamTrapRecipients: Set<String> = []
    /// `Authentication-Results:` for the `-allow` DNS list hits of this connection, or "".
    var allowResults = ""

    init(environment: SMTPConnectionEnvironment, clientIP: String) {
        self.environment = environment
        session = SMTPSession(configuration: environment.configuration)
        framer = CommandLineFramer(limit: environment.configuration.limits.commandLine)
        tarpit = Tarpit(enabled: environment.tarpit)
        self.clientIP = clientIP
        block = environment.access.variables["BLOCK"] ?? ""
    }

    var relayAllowed: Bool {
        session.authenticatedUser != nil || (environment.access.relayClient && !environment.relayNeedsAuth)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context: context)
        context.fireChannelActive()
        guard let lists = environment.blockLists else {
            send(session.greeting(), context: context)
            flush(context: context)
            // Logged after the greeting went out: the client need not wait for the log.
            environment.logger.info("started,ip=[\(clientIP)]")
            return
        }
        environment.logger.info("started,ip=[\(clientIP)]")
        // couriertcpd asks the DNS lists before the server greets (spec/mta.md §2.17).
        let ip = clientIP
        let preset = environment.access.variables
        runAsync(context: context, { await lists.evaluate(ip: ip, preset: preset) }, then: { handler, context, found in
            handler.allowListed = found["ALLOW_0"] != nil
            handler.allowResults = AuthenticationResults.dnsAllowList(found, me: handler.environment.configuration.hostname)
            if let value = found["BLOCK"] {
                handler.block = value
                if !value.isEmpty {
                    // The text may come from a DNS TXT record: one line in the log.
                    let shown = SenderPolicy.headerSafe(value)
                    handler.environment.logger.info("block,ip=[\(ip)],zone=\(SenderPolicy.headerSafe(found["BLOCK_ZONE"] ?? "")): \(shown)")
                }
            }
            handler.send(handler.session.greeting(), context: context)
        })
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
        abortSubmission()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        environment.logger.debug("connection error from \(clientIP): \(error)")
        closed = true
        abortSubmission()
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { pending.append(contentsOf: bytes) }
        armIdleTimer(context: context)
        process(context: context)
        updateReading(context: context)
    }

    // MARK: the loop

    func process(context: ChannelHandlerContext) {
        // Input is consumed through `offset` and dropped once at the end (no quadratic copying
        // when many pipelined lines arrive in one read).
        // Not re-entrant: a read triggered from inside (backpressure's `context.read()`) only
        // appends to `pending`, which this loop then picks up.
        guard !processing else { return }
        processing = true
        defer { processing = false }
        var offset = 0
        while !waiting && !closed && offset < pending.count {
            if let reply = discardReply {
                // RFC 3030 §2: a refused chunk is read to its end, never taken as commands.
                let used = min(discardRemaining, pending.count - offset)
                offset += used
                discardRemaining -= used
                if discardRemaining == 0 {
                    discardReply = nil
                    send(reply, context: context)
                }
                continue
            }
            if session.isReceivingChunk, var chunks = chunkDecoder {
                var chunk: [UInt8] = []
                let used = chunks.decode(pending[offset...], into: &chunk)
                offset += used
                chunkDecoder = chunks
                receiveMessageBytes(chunk, after: chunks.isChunkComplete ? .chunkEnded : .more, context: context)
                continue
            }
            if var decoder {
                var chunk: [UInt8] = []
                let used = decoder.decode(pending[offset...], into: &chunk)
                offset += used
                self.decoder = decoder
                let end = decoder.isFinished ? decoder.outcome : nil
                if end != nil { self.decoder = nil }
                receiveMessageBytes(chunk, after: end.map { .dataEnded($0) } ?? .more, context: context)
                continue
            }
            var input = pending[offset...]
            let line = framer.next(from: &input)
            offset = input.startIndex
            guard let line else { break }
            if authExchange != nil {
                switch line {
                case .line(let bytes): continueAuthentication(String(decoding: bytes, as: UTF8.self), context: context)
                case .tooLong: endAuthentication(.failed(SMTPAuthExchange.failed, user: nil, counts: false), context: context)
                }
                continue
            }
            let action: SMTPSession.Action
            switch line {
            case .line(let bytes): action = session.receive(line: bytes[...])
            case .tooLong: action = session.receiveOverlongLine()
            }
            perform(action, context: context)
        }
        pending.removeFirst(min(offset, pending.count))
        flush(context: context)
        updateReading(context: context)
        closeIfInputDone(context: context)
    }

    /// After a half-close, once every complete command read was carried out and answered:
    /// nothing more can come, so the connection ends (an unfinished message is dropped).
    func closeIfInputDone(context: ChannelHandlerContext) {
        guard inputClosed, !waiting, !closed else { return }
        closed = true
        abortSubmission()
        flush(context: context)
        context.close(promise: nil)
    }

    func perform(_ action: SMTPSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let reply):
            send(reply, context: context)
        case .sendAndClose(let reply):
            send(reply, context: context)
            closed = true
            flush(context: context)
            context.close(promise: nil)
        case .sendAndStartTLS(let reply):
            send(reply, context: context)
            flush(context: context)
            startTLS(context: context)
        case .checkSender(let sender, let parameters):
            let policy = environment.senderPolicy
            let client = SenderPolicy.Client(ip: clientIP, heloName: session.heloName, relayClient: relayAllowed,
                                             blocked: !block.isEmpty, allowListed: allowListed)
            runAsync(context: context, { await policy.check(sender, client: client) }, then: { handler, context, verdict in
                handler.senderHeaders = verdict.headers
                handler.mailFromPassedSPF = verdict.mailFromPassed
                handler.perform(handler.session.senderChecked(sender, parameters, refusal: verdict.refusal), context: context)
            })
        case .checkRecipient(let mailbox, let parameters):
            let policy = environment.policy
            let lookup = environment.lookup
            let relayAllowed = self.relayAllowed
            let block = self.block.isEmpty ? nil : Replies.blocked(self.block)
            let bofh = environment.senderPolicy.bofh
            let suppression = environment.backscatter.flatMap {
                $0.tracks(BackscatterSuppression.source(relayClient: relayAllowed)) ? $0 : nil
            }
            let now = Int64(time(nil))
            if !bofh.hasSpamTraps,
               let verdict = policy.checkWithoutLookup(mailbox, relayAllowed: relayAllowed, block: block, lookup: lookup) {
                // Known already (a recent lookup): answered here, no task hop.
                if verdict == nil, let suppression {
                    if let refusal = suppression.cachedRefusal(for: mailbox.address, now: now) {
                        recipientChecked(mailbox, parameters, refusal: refusal, context: context)
                        return
                    }
                } else {
                    perform(session.recipientChecked(mailbox, parameters, refusal: verdict), context: context)
                    return
                }
            }
            runAsync(context: context, { () -> (SMTPReply?, Bool) in
                var refusal = await policy.check(mailbox, relayAllowed: relayAllowed, block: block, lookup: lookup)
                // spec/mta.md §2.12 RCPT step 8: the backscatter suppression list.
                if refusal == nil, let suppression { refusal = suppression.refusal(for: mailbox.address, now: now) }
                // spec/mta.md §2.14: spam traps are matched after alias expansion.
                guard refusal == nil, bofh.hasSpamTraps else { return (refusal, false) }
                return (nil, await lookup.expansion(of: mailbox.address).contains { bofh.isSpamTrap($0) })
            }, then: { handler, context, answer in
                if answer.1 { handler.spamTrapRecipients.insert(mailbox.address) }
                handler.recipientChecked(mailbox, parameters, refusal: answer.0, context: context)
            })
        case .openSubmission(let transaction):
            openSubmission(transaction, context: context)
        case .commitSubmission:
            commitSubmission(context: context)
        case .abortSubmission(let reply):
            abortSubmission()
            send(reply, context: context)
        case .receiveChunk(let size, let last):
            var chunks = chunkDecoder ?? ChunkDecoder(sizeLimit: environment.configuration.limits.messageSize,
                                                      lineLimit: environment.configuration.limits.dataLine)
            var bytes: [UInt8] = []
            chunks.begin(size: size, last: last, into: &bytes)
            chunkDecoder = chunks
            // `BDAT 0`: no octets to wait for.
            receiveMessageBytes(bytes, after: chunks.isChunkComplete ? .chunkEnded : .more, context: context)
        case .discardChunk(let size, let reply):
            if size == 0 {
                send(reply, context: context)
            } else {
                discardRemaining = size
                discardReply = reply
            }
        case .authenticate(let name, let initialResponse):
            guard environment.authenticator != nil, let mechanism = SASLMechanism(name: name) else {
                perform(session.authenticationEnded(Replies.authRejected), context: context)
                return
            }
            var exchange = SMTPAuthExchange(mechanism: mechanism, hostName: environment.configuration.hostname,
                                            defaultDomain: environment.defaultDomain, externalIdentity: session.externalIdentity)
            let step = exchange.start(initialResponse: initialResponse)
            authExchange = exchange
            performAuthentication(step, context: context)
        }
    }

    func recipientChecked(_ mailbox: SMTPMailbox, _ parameters: RcptParameters, refusal: SMTPReply?,
                                  context: ChannelHandlerContext) {
        if let refusal, refusal == Replies.addressUnavailable || refusal == Replies.addressTemporarilyUnavailable {
            environment.logger.info("backscatter,ip=[\(clientIP)],to=<\(mailbox.address)>: \(refusal)")
        }
        perform(session.recipientChecked(mailbox, parameters, refusal: refusal), context: context)
    }

    // MARK: output

    func send(_ reply: SMTPReply, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let bytes = reply.encoded(enhanced: session.writesEnhancedCodes)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
        unflushed = true
        if reply.isPermanentFailure {
            environment.logger.info("error,relay=[\(clientIP)],msg=\"\(reply)\"")
            let delay = tarpit.delay(after: reply)
            if delay > 0 && !closed {
                // Tarpit (spec/mta.md §2.11): stop reading for a while, on a timer.
                waiting = true
                flush(context: context)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .seconds(Int64(delay))) {
                    let (handler, context) = bound.value
                    handler.waiting = false
                    if !handler.closed { handler.process(context: context) }
                }
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    func armIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: environment.commandTimeout) {
            let (handler, context) = bound.value
            guard !handler.closed else { return }
            handler.closed = true
            handler.abortSubmission()
            context.close(promise: nil)
        }
    }

    // MARK: STARTTLS (RFC 3207)

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            inputClosed = true
            process(context: context)
            return
        }
        if let identity = ClientCertificateIdentity.afterHandshake(event, context: context, field: environment.tlsExternalField) {
            session.clientCertificateVerified(identity: identity)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext = environment.tlsContext else { return }
        waiting = true
        // RFC 3207 §4.2: nothing the client sent before the handshake counts after it.
        pending.removeAll()
        framer.reset()
        let tlsHandler = NIOSSLServerHandler(context: tlsContext)
        do {
            try context.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
            session.tlsStarted()
            waiting = false
        } catch {
            environment.logger.info("STARTTLS failed for \(clientIP): \(error)")
            closed = true
            context.close(promise: nil)
        }
    }
}
