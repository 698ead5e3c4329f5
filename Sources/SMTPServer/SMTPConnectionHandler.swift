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

    private let environment: SMTPConnectionEnvironment
    private var session: SMTPSession
    private var framer: CommandLineFramer
    private var decoder: DataDecoder?
    /// RFC 3030: the BDAT chunks of the message being received (one decoder for all chunks).
    private var chunkDecoder: ChunkDecoder?
    /// A refused BDAT's chunk being thrown away: octets still to drop, then this reply.
    private var discardRemaining = 0
    private var discardReply: SMTPReply?
    private var tarpit: Tarpit
    private let clientIP: String
    private var pending: [UInt8] = []
    /// An async step (lookup, queue, tarpit, TLS) is running: input waits.
    private var waiting = false
    private var closed = false
    private var submission: (any MessageSubmission)?
    /// Writes to the submission run one after another.
    private var writeChain: EventLoopFuture<Void>?
    private var writeFailed: Error?
    /// Message bytes handed to the queue but not yet written: past `maxInFlight`, reading
    /// stops (autoRead off) until the queue catches up, so a fast client and a slow disk
    /// never pile a message up in memory (STYLE.md "Bodies stream").
    private var inFlight = 0
    private static let maxInFlight = 1 << 20
    /// Unprocessed input kept while an async step or the tarpit runs; past this, reading stops.
    private static let maxPending = 256 << 10
    private var readingPaused = false
    /// The client shut its sending side down (half-close): what it sent is still processed and
    /// answered, then the connection closes.
    private var inputClosed = false
    private var processing = false
    private var unflushed = false
    private var context: ChannelHandlerContext?
    private var idleTimer: Scheduled<Void>?
    /// The SASL exchange of an AUTH command in progress: lines go to it, not to the session.
    private var authExchange: SMTPAuthExchange?
    /// `BLOCK` (smtpaccess or a DNS list): when non-empty every RCPT is refused with it.
    private var block: String
    /// A DNS allow list listed the client (`ALLOW_0` set).
    private var allowListed = false
    /// `Received-SPF:` fields of the current transaction's sender check.
    private var senderHeaders: [String] = []
    /// The MAIL FROM SPF check of this transaction gave `pass` or `error` (`mailfromok`).
    private var mailFromPassedSPF = false
    /// `BOFHSPFFROM` applies to the message being received and has not run yet.
    private var checksFromHeader = false
    /// The `From:` check refused the message being received: answered at the end of the data.
    private var fromRefusal: SMTPReply?
    /// Judges the header section of the message being received (size, routing loops).
    private var headerInspector = HeaderInspector()
    private var fieldRenamer = HeaderFieldRenamer(renaming: [])
    /// The login a verified TLS client certificate names (`TLS_EXTERNAL`), for AUTH EXTERNAL.
    private var externalIdentity: String?
    /// RCPT addresses whose alias expansion reaches a `bofh spamtrap` (spec/mta.md §2.14).
    private var spamTrapRecipients: Set<String> = []
    /// `Authentication-Results:` for the `-allow` DNS list hits of this connection, or "".
    private var allowResults = ""

    init(environment: SMTPConnectionEnvironment, clientIP: String) {
        self.environment = environment
        session = SMTPSession(configuration: environment.configuration)
        framer = CommandLineFramer(limit: environment.configuration.limits.commandLine)
        tarpit = Tarpit(enabled: environment.tarpit)
        self.clientIP = clientIP
        block = environment.access.variables["BLOCK"] ?? ""
    }

    private var relayAllowed: Bool {
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

    private func process(context: ChannelHandlerContext) {
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
    private func closeIfInputDone(context: ChannelHandlerContext) {
        guard inputClosed, !waiting, !closed else { return }
        closed = true
        abortSubmission()
        flush(context: context)
        context.close(promise: nil)
    }

    private func perform(_ action: SMTPSession.Action, context: ChannelHandlerContext) {
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
                                            defaultDomain: environment.defaultDomain, externalIdentity: externalIdentity)
            let step = exchange.start(initialResponse: initialResponse)
            authExchange = exchange
            performAuthentication(step, context: context)
        }
    }

    private func recipientChecked(_ mailbox: SMTPMailbox, _ parameters: RcptParameters, refusal: SMTPReply?,
                                  context: ChannelHandlerContext) {
        if let refusal, refusal == Replies.addressUnavailable || refusal == Replies.addressTemporarilyUnavailable {
            environment.logger.info("backscatter,ip=[\(clientIP)],to=<\(mailbox.address)>: \(refusal)")
        }
        perform(session.recipientChecked(mailbox, parameters, refusal: refusal), context: context)
    }

    // MARK: AUTH (RFC 4954)

    private func continueAuthentication(_ line: String, context: ChannelHandlerContext) {
        guard var exchange = authExchange else { return }
        let step = exchange.receive(line)
        authExchange = exchange
        performAuthentication(step, context: context)
    }

    private func performAuthentication(_ step: SMTPAuthExchange.Step, context: ChannelHandlerContext) {
        guard let authenticator = environment.authenticator else { return }
        let clientIP = self.clientIP
        switch step {
        case .challenge(let reply):
            send(reply, context: context)
        case .verify(let credentials):
            let user: String
            switch credentials {
            case .password(let name, _), .cram(_, let name, _, _): user = name
            }
            runAsync(context: context, {
                await authenticator.verify(credentials, clientIP: clientIP, user: user)
            }, then: { handler, context, result in
                guard let exchange = handler.authExchange else { return }
                handler.performAuthentication(exchange.verified(result), context: context)
            })
        case .lookupExternal(let user):
            runAsync(context: context, {
                await authenticator.lookup(user: user)
            }, then: { handler, context, result in
                guard let exchange = handler.authExchange else { return }
                handler.performAuthentication(exchange.verified(result), context: context)
            })
        case .scramLookup(let algorithm, let user):
            runAsync(context: context, {
                await authenticator.scramCredentials(user: user, algorithm: algorithm, clientIP: clientIP)
            }, then: { handler, context, credentials in
                guard var exchange = handler.authExchange else { return }
                let next = exchange.provide(credentials)
                handler.authExchange = exchange
                handler.performAuthentication(next, context: context)
            })
        case .succeeded, .failed:
            endAuthentication(step, context: context)
        }
    }

    private func endAuthentication(_ step: SMTPAuthExchange.Step, context: ChannelHandlerContext) {
        let mechanism = authExchange?.mechanism.rawValue ?? ""
        authExchange = nil
        let authenticator = environment.authenticator
        let clientIP = self.clientIP
        switch step {
        case .succeeded(let user):
            environment.logger.info("auth,relay=[\(clientIP)],mechanism=\(mechanism),user=\(user): authenticated")
            SMTPMetrics.authSucceeded()
            Task { await authenticator?.recordSuccess(clientIP: clientIP, user: user) }
            // spec/mta.md §2.17: a successful login clears BLOCK.
            block = ""
            perform(session.authenticated(as: user, mechanism: mechanism), context: context)
        case .failed(let reply, let user, let counts):
            // Courier logs the mechanism and the user id tried (spec/mta.md §2.9).
            environment.logger.info("error,relay=[\(clientIP)],authentication failed,mechanism=\(mechanism),user=\(user ?? "")")
            SMTPMetrics.authFailed()
            if counts { Task { await authenticator?.recordFailure(clientIP: clientIP, user: user) } }
            perform(session.authenticationEnded(reply), context: context)
        default:
            break
        }
    }

    /// Runs `work` off the event loop; input waits until `then` ran on the loop.
    private func runAsync<T: Sendable>(context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
                                       then: @escaping (SMTPConnectionHandler, ChannelHandlerContext, T) -> Void) {
        waiting = true
        flush(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let future = context.eventLoop.makeFutureWithTask { await work() }
        let thenBound = NIOLoopBound(then, eventLoop: context.eventLoop)
        future.whenSuccess { value in
            let (handler, context) = bound.value
            handler.waiting = false
            guard !handler.closed else { return }
            thenBound.value(handler, context, value)
            handler.process(context: context)
        }
    }

    // MARK: data

    private func openSubmission(_ transaction: SMTPTransaction, context: ChannelHandlerContext) {
        let lookup = environment.lookup
        var built = QueueEnvelope(transaction, clientAddress: clientIP, heloName: session.heloName,
                                     authenticatedUser: session.authenticatedUser,
                                     rewrite: { $0.contains("%") ? lookup.percentRelayTarget($0) : nil })
        // Courier's message source (spec/mta.md §4.10): `authsmtp` for a client that may relay.
        built.source = BackscatterSuppression.source(relayClient: relayAllowed)
        built.tracked = environment.backscatter?.tracks(built.source) ?? false
        let envelope = built
        let queue = environment.queue
        let received = ReceivedHeader.make(
            helo: session.heloName, clientIP: clientIP, me: environment.configuration.hostname,
            extended: session.isExtended, tls: session.tlsActive, authenticatedUser: session.authenticatedUser,
            mechanism: session.authenticatedMechanism, smtputf8: transaction.parameters.smtputf8, date: RFC5322Date.now().formatted)
        // spec/mta.md §2.13: Received-SPF fields go above Received, Authentication-Results below.
        let trace = senderHeaders.map { $0 + "\n" }.joined() + received + allowResults
        if let submission = queue.submitNow(envelope), submission.writeInMemory(Array(trace.utf8)) {
            // The queue is open and the trace fits in memory: no task hop.
            submissionOpened(.success(submission), context: context)
            return
        }
        runAsync(context: context, { () -> Result<any MessageSubmission, QueueError> in
            do {
                let submission = try await queue.submit(envelope)
                try await submission.write(Array(trace.utf8))
                return .success(submission)
            } catch let error as QueueError {
                return .failure(error)
            } catch {
                return .failure(.temporaryFailure("\(error)"))
            }
        }, then: { handler, context, result in
            handler.submissionOpened(result, context: context)
        })
    }

    private func submissionOpened(_ result: Result<any MessageSubmission, QueueError>, context: ChannelHandlerContext) {
        switch result {
        case .success(let submission):
            self.submission = submission
            writeChain = context.eventLoop.makeSucceededVoidFuture()
            writeFailed = nil
            let limits = environment.configuration.limits
            headerInspector = HeaderInspector(byteLimit: environment.headerLimit)
            fieldRenamer = HeaderFieldRenamer(renaming: environment.renamedFields)
            chunkDecoder = nil
            fromRefusal = nil
            checksFromHeader = environment.senderPolicy.checksFromHeader(relayClient: relayAllowed,
                                                                         mailFromPassed: mailFromPassedSPF)
            let action = session.submissionOpened()
            // DATA reads through the dot decoder; BDAT's `receiveChunk` sets up the chunk decoder.
            if session.isReceivingData { decoder = DataDecoder(sizeLimit: limits.messageSize, lineLimit: limits.dataLine) }
            perform(action, context: context)
        case .failure(let error):
            environment.logger.error("queue refused a submission from \(clientIP): \(error)")
            perform(session.submissionFailed(Self.reply(for: error)), context: context)
        }
    }

    /// What follows a run of decoded message bytes.
    private enum AfterBytes {
        /// More data to come.
        case more
        /// DATA's end line came.
        case dataEnded(DataDecoder.Outcome)
        /// The current BDAT chunk was read whole.
        case chunkEnded
    }

    /// Decoded message bytes (DATA or BDAT): watched (header limits, the `From:` check),
    /// header fields renamed, sent to the queue; then `after`. At the end of the header section
    /// a `BOFHSPFFROM` check holds the rest back until it has answered.
    private func receiveMessageBytes(_ chunk: [UInt8], after: AfterBytes, context: ChannelHandlerContext) {
        if !chunk.isEmpty {
            let headerEnd = headerInspector.feed(chunk)
            if checksFromHeader, let headerEnd {
                storeMessageBytes(Array(chunk[..<headerEnd]), context: context)
                checkFromHeader(then: Array(chunk[headerEnd...]), after: after, context: context)
                return
            }
            storeMessageBytes(chunk, context: context)
        }
        switch after {
        case .more:
            return
        case .dataEnded(let outcome):
            flushRenamer(context: context)
            if checksFromHeader {
                // A message without a body: its header section ends with the data.
                checkFromHeader(then: [], after: after, context: context)
                return
            }
            finishData(outcome: outcome, context: context)
        case .chunkEnded:
            chunkEnded(context: context)
        }
    }

    private func storeMessageBytes(_ bytes: [UInt8], context: ChannelHandlerContext) {
        let renamed = fieldRenamer.feed(bytes)
        // After a From: refusal the rest of the data is read and dropped (Courier's submit).
        if !renamed.isEmpty && fromRefusal == nil { writeToSubmission(renamed, context: context) }
    }

    private func flushRenamer(context: ChannelHandlerContext) {
        let held = fieldRenamer.finish()
        if !held.isEmpty && fromRefusal == nil { writeToSubmission(held, context: context) }
    }

    /// spec/mta.md §2.15: the `From:` address's SPF check, once the header section is known.
    /// Its `Received-SPF:` goes at the end of the header section, as Courier's submit puts it.
    private func checkFromHeader(then rest: [UInt8], after: AfterBytes, context: ChannelHandlerContext) {
        checksFromHeader = false
        guard headerInspector.withinLimit,
              let address = SenderPolicy.fromHeaderAddress(in: headerInspector.headerSection) else {
            receiveMessageBytes(rest, after: after, context: context)
            return
        }
        let policy = environment.senderPolicy
        let client = SenderPolicy.Client(ip: clientIP, heloName: session.heloName, relayClient: relayAllowed,
                                         blocked: !block.isEmpty, allowListed: allowListed)
        runAsync(context: context, { await policy.checkFromHeader(address, client: client) }, then: { handler, context, verdict in
            if let refusal = verdict.refusal {
                handler.fromRefusal = refusal
            } else {
                let fields = verdict.headers.map { $0 + "\n" }.joined()
                handler.writeToSubmission(Array(fields.utf8), context: context)
            }
            handler.receiveMessageBytes(rest, after: after, context: context)
        })
    }

    /// The current BDAT chunk was read whole: the LAST one ends the data as DATA's end line
    /// does (same checks, 250 only after the commit); any other is answered at once.
    private func chunkEnded(context: ChannelHandlerContext) {
        guard let chunks = chunkDecoder else { return }
        if chunks.isLast {
            flushRenamer(context: context)
            if checksFromHeader {
                checkFromHeader(then: [], after: .chunkEnded, context: context)
                return
            }
            chunkDecoder = nil
            finishData(outcome: chunks.outcome, context: context)
        } else {
            perform(session.chunkReceived(chunks.outcome), context: context)
        }
    }

    private func writeToSubmission(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard let submission, let chain = writeChain else { return }
        // Nothing queued before these bytes and they fit in memory: no task hop.
        if inFlight == 0 && writeFailed == nil && submission.writeInMemory(bytes) { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let count = bytes.count
        inFlight += count
        updateReading(context: context)
        writeChain = chain.flatMap {
            loop.makeFutureWithTask { try await submission.write(bytes) }
        }.flatMapErrorThrowing { error in
            bound.value.0.writeFailed = error
        }.map {
            let (handler, context) = bound.value
            handler.inFlight -= count
            handler.updateReading(context: context)
        }
    }

    /// Backpressure: stop reading while too much waits (message bytes for the queue, or input
    /// behind an async step); read again once both are below half their limit.
    private func updateReading(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if !readingPaused && (inFlight > Self.maxInFlight || pending.count > Self.maxPending) {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        } else if readingPaused && inFlight <= Self.maxInFlight / 2 && pending.count <= Self.maxPending / 2 {
            readingPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }

    private func finishData(outcome: DataDecoder.Outcome, context: ChannelHandlerContext) {
        guard let chain = writeChain else { return }
        waiting = true
        flush(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        chain.whenComplete { _ in
            let (handler, context) = bound.value
            handler.waiting = false
            guard !handler.closed else { return }
            if let error = handler.writeFailed {
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(Self.reply(for: error)), context: context)
            } else if !outcome.sizeExceeded, !outcome.lineTooLong,
                      let trap = handler.session.currentTransaction?.recipients.first(where: {
                          handler.spamTrapRecipients.contains($0.0.address)
                              || handler.environment.senderPolicy.bofh.isSpamTrap($0.0.address)
                      }) {
                // spec/mta.md §2.12 DATA stage: a spam trap among the recipients refuses it all.
                handler.environment.logger.info("spamtrap,ip=[\(handler.clientIP)],to=\(trap.0.address): refused")
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(Replies.spamRefused), context: context)
            } else if !outcome.sizeExceeded, !outcome.lineTooLong, let refusal = handler.headerInspector.verdict() {
                handler.environment.logger.info("error,relay=[\(handler.clientIP)],msg=\"\(refusal)\": refused")
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(refusal), context: context)
            } else if !outcome.sizeExceeded, !outcome.lineTooLong, let refusal = handler.fromRefusal {
                handler.abortSubmission()
                handler.perform(handler.session.commitFailed(refusal), context: context)
            } else {
                handler.perform(handler.session.dataEnded(outcome), context: context)
            }
            handler.process(context: context)
        }
    }

    private func commitSubmission(context: ChannelHandlerContext) {
        guard let submission else { return }
        self.submission = nil
        writeChain = nil
        // An in-memory message: the queue's flusher completes the promise right after the
        // fdatasync covering it, and 250 goes out from here (no task or actor hop).
        let promise = context.eventLoop.makePromise(of: Result<QueueID, QueueError>.self)
        if submission.commit(completion: { promise.succeed($0) }) {
            waiting = true
            flush(context: context)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { result in
                let (handler, context) = bound.value
                handler.waiting = false
                guard !handler.closed else { return }
                handler.committed(result, context: context)
                handler.process(context: context)
            }
            return
        }
        // Not taken (a spooled or oversized message): completed unused, so it is not leaked.
        promise.succeed(.failure(.temporaryFailure("not committed")))
        runAsync(context: context, { () -> Result<QueueID, QueueError> in
            do {
                return .success(try await submission.commit())
            } catch let error as QueueError {
                await submission.abort()
                return .failure(error)
            } catch {
                await submission.abort()
                return .failure(.temporaryFailure("\(error)"))
            }
        }, then: { handler, context, result in
            handler.committed(result, context: context)
        })
    }

    private func committed(_ result: Result<QueueID, QueueError>, context: ChannelHandlerContext) {
        switch result {
        case .success(let id):
            tarpit.reset()
            // The 250 goes out first; the log line and counter need not delay it.
            perform(session.committed(id: id.rawValue), context: context)
            flush(context: context)
            let auth = session.authenticatedUser.map { ",auth=\($0)" } ?? ""
            environment.logger.info("newmsg,id=\(id)\(auth),from=\(clientIP): accepted")
            SMTPMetrics.messageAccepted()
        case .failure(let error):
            environment.logger.error("commit failed: \(error)")
            perform(session.commitFailed(Self.reply(for: error)), context: context)
        }
    }

    private func abortSubmission() {
        decoder = nil
        chunkDecoder = nil
        writeChain = nil
        inFlight = 0
        if let context { updateReading(context: context) }
        guard let submission else { return }
        self.submission = nil
        Task { await submission.abort() }
    }

    static func reply(for error: Error) -> SMTPReply {
        switch error as? QueueError {
        case .insufficientStorage: Replies.mailSystemFull
        case .messageTooBig(let limit): Replies.messageTooBig(limit, limit: limit)
        default: Replies.submitFailed
        }
    }

    // MARK: output

    private func send(_ reply: SMTPReply, context: ChannelHandlerContext) {
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

    private func flush(context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
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
            externalIdentity = identity
            session.clientCertificateVerified()
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func startTLS(context: ChannelHandlerContext) {
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
