import IMAP
import Logging
import MailAuth
import MailAuthCore
import MaildirCore
import NIOCore
import NIOPosix
import NIOSSL
import ListenerSupport

/// Everything a connection needs that outlives it: shared by the channels of one listener.
struct IMAPConnectionEnvironment: Sendable {
    var configuration: IMAPSessionConfiguration
    var auth: AuthChain
    var throttle: LoginThrottle
    /// `DEFDOMAIN`: appended to login names without `@` (spec/access.md §2.7).
    var defaultDomain: String?
    var mailboxOptions: MailboxOptions
    var tlsContext: NIOSSLContext?
    var hostName: String
    var logger: Logger
    /// `TLS_EXTERNAL`: the client certificate's subject field holding the login for
    /// AUTHENTICATE EXTERNAL (with `TLS_VERIFYPEER`); nil = no EXTERNAL.
    var tlsExternalField: String?
    /// How often an IDLE client's mailbox is rescanned when no change event came
    /// (`IMAP_IDLE_TIMEOUT`; also the store's polling interval where inotify is missing).
    var idlePoll: TimeAmount = .seconds(1)
    /// Read timeout (RFC 3501 §5.4: at least 30 minutes once logged in; IDLE included, whose
    /// clients re-issue it within 29 minutes, RFC 2177).
    var autologoutTimeout: TimeAmount = .minutes(30)
    /// The whole unauthenticated phase (greeting to successful login, STARTTLS and SASL included).
    var preLoginTimeout: TimeAmount = .seconds(60)
    /// `IMAP_PLAINTEXT_LOGIN=1`: clear passwords without TLS from any address; otherwise only
    /// from loopback (MailAuth's PlaintextPolicy).
    var plaintextAnywhere = false
    /// The authlib service name of the logins (`imap`, or `AUTHSERVICE<port>`): it picks the
    /// per-service password (`imappw`, `imapspw`…) and is `$(service)` in authpgsqlrc.
    var authService = "imap"
}

/// The NIO side of one IMAP session: frames input, drives ``IMAPSession``, performs its
/// actions (login through MailAuth, mailbox commands on the thread pool, STARTTLS, IDLE).
/// All responses of one command are written with one write and one flush.
final class IMAPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let environment: IMAPConnectionEnvironment
    private var session: IMAPSession
    private var framer: CommandFramer
    private let clientIP: String
    private var pending: [UInt8] = []
    private var waiting = false
    private var closed = false
    private var processing = false
    private var mailbox: MailboxSession?
    private var idleTag: [UInt8]?
    private var idleTimer: Scheduled<Void>?
    /// Reads the store's change events while IDLE runs (cancelled when it ends).
    private var idleWatcher: Task<Void, Never>?
    private var idlePolling = false
    private var sasl: (tag: [UInt8], server: SASLServer)?
    /// SCRAM: the server-final message was sent; an empty line completes this login.
    private var saslFinal: AuthResult?
    /// SCRAM: the account whose verifier the exchange is checked against.
    private var scramAccount: AuthResult?
    private var readTimer: Scheduled<Void>?
    /// When the last input arrived (the autologout counts from it).
    private var lastInput = NIODeadline.now()
    private static let maxPending = 256 << 10
    private var readingPaused = false
    private var discardInput = false
    /// Streamed APPEND messages of the command being received, by message index.
    private var streams: [Int: StreamedAppend] = [:]
    private var activeStream: StreamedAppend?

    init(environment: IMAPConnectionEnvironment, clientIP: String, implicitTLS: Bool) {
        var configuration = environment.configuration
        configuration.tlsActive = implicitTLS
        configuration.plaintextAllowedWithoutTLS = PlaintextPolicy.allowsPlaintextPasswords(
            on: .init(encrypted: implicitTLS, peerAddress: clientIP), allowInsecure: environment.plaintextAnywhere)
        if implicitTLS { configuration.tlsAvailable = false }
        self.environment = environment
        session = IMAPSession(configuration: configuration)
        framer = CommandFramer(limits: configuration.limits)
        self.clientIP = clientIP
    }

    func channelActive(context: ChannelHandlerContext) {
        environment.logger.debug("Connection, ip=[\(clientIP)]")
        write(session.greeting(), context: context)
        armReadTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abortStreams()
        if let user = mailbox?.user {
            environment.logger.info("LOGOUT, user=\(user), ip=[\(clientIP)]")
        } else {
            environment.logger.debug("Disconnected, ip=[\(clientIP)]")
        }
        closed = true
        idleTimer?.cancel()
        idleWatcher?.cancel()
        readTimer?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identity = ClientCertificateIdentity.afterHandshake(event, context: context, field: environment.tlsExternalField) {
            session.clientCertificateVerified(identity: identity)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        environment.logger.debug("connection error from \(clientIP): \(error)")
        closed = true
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { pending.append(contentsOf: $0) }
        noteInput(context: context)
        process(context: context)
    }

    // MARK: the loop

    private func process(context: ChannelHandlerContext) {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        var input = pending[...]
        while !waiting && !closed && !input.isEmpty {
            if idleTag != nil || sasl != nil {
                // IDLE's DONE and SASL responses are plain lines (RFC 2177, RFC 3501 §6.2.2).
                guard let newline = input.firstIndex(of: 10) else {
                    if input.count > 16384 { closeWith("* BYE Line too long\r\n", context: context) }
                    break
                }
                var line = Array(input[input.startIndex..<newline])
                input = input[(newline + 1)...]
                if line.last == 13 { line.removeLast() }
                if idleTag != nil { endIdle(line, context: context) } else { saslLine(line, context: context) }
                continue
            }
            guard let event = framer.next(from: &input) else { break }
            switch event {
            case .appendStreamStart(let prefix, _, let synchronizing):
                startStream(prefix: prefix, synchronizing: synchronizing, context: context)
                continue
            case .appendStreamBytes(let chunk):
                writeStream(chunk, context: context)
                continue
            case .appendStreamEnd:
                endStream(context: context)
                continue
            default:
                break
            }
            perform(session.receive(event), context: context)
            if case .command = event, !streams.isEmpty {
                abortStreams()  // the command was not an APPEND that took them
            }
            if discardInput {
                // STARTTLS: bytes that followed the command in the clear are dropped.
                discardInput = false
                input = input[input.endIndex...]
            }
        }
        if input.isEmpty {
            pending.removeAll(keepingCapacity: pending.count <= 4096)
        } else if input.startIndex != pending.startIndex {
            pending = Array(input)
        }
        updateReading(context: context)
    }

    private func perform(_ action: IMAPSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let bytes):
            write(bytes, context: context)
        case .sendAndClose(let bytes):
            closeWith(bytes, context: context)
        case .sendAndStartTLS(let bytes):
            write(bytes, context: context)
            startTLS(context: context)
        case .login(let tag, let user, let password, let early):
            write(early, context: context)
            login(tag: tag, user: String(decoding: user, as: UTF8.self), password: password, context: context)
        case .authenticate(let tag, let mechanism, let initial, let early):
            write(early, context: context)
            authenticate(tag: tag, mechanism: mechanism, initial: initial, context: context)
        case .mailbox(let tagged, let early):
            write(early, context: context)
            if case .idle = tagged.command {
                startIdle(tagged.tag, context: context)
            } else {
                runMailbox(tagged, context: context)
            }
        }
    }

    private func closeWith(_ bytes: [UInt8], context: ChannelHandlerContext) {
        write(bytes, context: context)
        closed = true
        context.close(promise: nil)
    }

    private func closeWith(_ text: String, context: ChannelHandlerContext) { closeWith(Array(text.utf8), context: context) }

    /// Runs `work` on the thread pool; input waits until `then` ran on the event loop.
    private func runBlocking<T: Sendable>(context: ChannelHandlerContext, _ work: @escaping @Sendable () -> T,
                                          then: @escaping (IMAPConnectionHandler, ChannelHandlerContext, T) -> Void) {
        waiting = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let thenBound = NIOLoopBound(then, eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop, work).whenComplete { result in
            let (handler, context) = bound.value
            handler.waiting = false
            guard !handler.closed else { return }
            switch result {
            case .success(let value): thenBound.value(handler, context, value)
            case .failure: handler.closeWith("* BYE Server shutting down\r\n", context: context)
            }
            handler.process(context: context)
        }
    }

    private func runAsync<T: Sendable>(context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
                                       then: @escaping (IMAPConnectionHandler, ChannelHandlerContext, T) -> Void) {
        waiting = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let thenBound = NIOLoopBound(then, eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { await work() }.whenSuccess { value in
            let (handler, context) = bound.value
            handler.waiting = false
            guard !handler.closed else { return }
            thenBound.value(handler, context, value)
            handler.process(context: context)
        }
    }

    // MARK: mailbox commands

    private func runMailbox(_ tagged: TaggedCommand, context: ChannelHandlerContext) {
        guard let mailbox else {
            var w = ResponseWriter()
            w.tagged(tagged.tag, .no, .serverBug, "No mail store")
            write(w.bytes, context: context)
            return
        }
        let utf8 = session.utf8Enabled
        var taken: [Int: StreamedAppend] = [:]
        if case .append = tagged.command {
            taken = streams
            streams = [:]
        }
        let streamed = taken
        mailbox.rev2 = session.isRev2
        mailbox.appendLiteralLimit = session.configuration.limits.appendLiteral
        let enabled = session.enabled
        if streamed.isEmpty, mailbox.prepareOnEventLoop(tagged, utf8: utf8) {
            // Answered from memory (and a page-cached file) right here: no thread-pool round
            // trip. Nothing is flushed in parts (the answer is small), so no hook meanwhile.
            let hook = mailbox.flushHook
            mailbox.flushHook = nil
            let result = mailbox.run(tagged, utf8: utf8, enabled: enabled)
            mailbox.flushHook = hook
            mailbox.forgetMessage()
            apply(result, context: context)
            return
        }
        if mailbox.flushHook == nil {
            let channel = context.channel
            mailbox.flushHook = { bytes in
                // On the thread pool: write this part; wait until the socket took it only when the
                // channel is above its high-water mark (a client reading slower than we produce).
                // Waiting for every part kept a thread-pool thread idle per part of a big FETCH
                // while the client read it; the memory held stays bounded either way (this part,
                // the one before it, and the channel's water mark).
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                let written = channel.writeAndFlush(buffer)
                if !channel.isWritable { try? written.wait() }
            }
        }
        runBlocking(context: context, { mailbox.run(tagged, utf8: utf8, enabled: enabled, streamed: streamed) }, then: { handler, context, result in
            handler.apply(result, context: context)
        })
    }

    /// A mailbox command's answer: the selection change for the state machine, then the bytes.
    private func apply(_ result: (bytes: [UInt8], change: MailboxSession.SelectionChange), context: ChannelHandlerContext) {
        switch result.change {
        case .none: break
        case .selected(let name, let readOnly): session.selected(name, readOnly: readOnly)
        case .deselected: session.selected(nil, readOnly: false)
        }
        write(result.bytes, context: context)
    }

    // MARK: streamed APPEND messages

    private func startStream(prefix bytes: [UInt8], synchronizing: Bool, context: ChannelHandlerContext) {
        let tag = CommandFramer.tagOf(bytes)
        guard session.user != nil, let mailbox else {
            refuseStream(tag: tag, .bad, nil, "APPEND needs a login first", context: context)
            return
        }
        guard let prefix = AppendPrefix.parse(bytes, limits: framer.limits) else {
            refuseStream(tag: tag, .bad, nil, "Malformed APPEND", context: context)
            return
        }
        waiting = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { mailbox.openStream(prefix) }.whenComplete { outcome in
            let (handler, context) = bound.value
            handler.waiting = false
            guard case .success(let result) = outcome else {
                handler.closeWith("* BYE Server shutting down\r\n", context: context)
                return
            }
            if handler.closed {
                // The client left while the file was being made: nobody will finish it.
                if case .success(let stream) = result { NIOThreadPool.singleton.submit { _ in stream.abort() } }
                return
            }
            switch result {
            case .success(let stream):
                handler.framer.acceptStream()
                handler.activeStream = stream
                handler.streams[prefix.messageIndex] = stream
                if synchronizing { handler.write(Array("+ Ready for literal data\r\n".utf8), context: context) }
            case .failure(let refusal):
                handler.refuseStream(tag: prefix.tag, .no, refusal.code, refusal.text, context: context)
            }
            handler.process(context: context)
        }
    }

    private func refuseStream(tag: [UInt8]?, _ status: Status, _ code: ResponseCode?, _ text: String,
                              context: ChannelHandlerContext) {
        framer.refuseStream()
        abortStreams()
        var w = ResponseWriter()
        if let tag { w.tagged(tag, status, code, text) } else { w.untaggedStatus(status, code, text) }
        write(w.bytes, context: context)
    }

    private func writeStream(_ chunk: [UInt8], context: ChannelHandlerContext) {
        guard let stream = activeStream else { return }
        runBlocking(context: context, { stream.write(chunk) }, then: { _, _, _ in })
    }

    private func endStream(context: ChannelHandlerContext) {
        guard let stream = activeStream else { return }
        activeStream = nil
        runBlocking(context: context, { stream.finish() }, then: { _, _, _ in })
    }

    private func abortStreams() {
        var all = Array(streams.values)
        if let active = activeStream, !all.contains(where: { $0 === active }) { all.append(active) }
        streams = [:]
        activeStream = nil
        guard !all.isEmpty else { return }
        let doomed = all
        NIOThreadPool.singleton.submit { _ in
            for stream in doomed { stream.abort() }
        }
    }

    // MARK: IDLE (RFC 2177)

    private func startIdle(_ tag: [UInt8], context: ChannelHandlerContext) {
        idleTag = tag
        var w = ResponseWriter()
        w.continuation("entering idle mode")
        write(w.bytes, context: context)
        scheduleIdlePoll(context: context)
        // A `#shared.` folder is selected in the other account's session (its Maildir is watched).
        guard let watched = mailbox.flatMap({ $0.sharedSelection ?? $0 }), let selected = watched.selected else { return }
        // Realtime changes (inotify through the Maildir store) trigger a poll at once; the
        // one-second stat poll stays as the safety net (NFS, missed events).
        let watch = IdleWatch.events(root: watched.maildir.path, folder: selected.folder,
                                     trashFolderName: watched.maildir.trashFolderName,
                                     pollInterval: .nanoseconds(environment.idlePoll.nanoseconds))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        idleWatcher = Task {
            for await _ in watch.events {
                if Task.isCancelled { break }
                loop.execute {
                    let (handler, context) = bound.value
                    handler.pollNow(context: context)
                }
            }
        }
    }

    /// An IDLE poll right away (a change event came), unless one is running.
    private func pollNow(context: ChannelHandlerContext) {
        guard idleTag != nil, !closed, !idlePolling, let mailbox else { return }
        idlePolling = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { mailbox.idleUpdates() }
            .whenComplete { result in
                let (handler, context) = bound.value
                handler.idlePolling = false
                guard handler.idleTag != nil, !handler.closed else { return }
                if case .success(let bytes) = result { handler.write(bytes, context: context) }
            }
    }

    private func scheduleIdlePoll(context: ChannelHandlerContext) {
        guard let mailbox, mailbox.selected != nil || mailbox.sharedSelection != nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: environment.idlePoll) {
            let (handler, context) = bound.value
            guard handler.idleTag != nil, !handler.closed, !handler.idlePolling else { return }
            handler.idlePolling = true
            NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { mailbox.idleUpdates() }
                .whenComplete { result in
                    let (handler, context) = bound.value
                    handler.idlePolling = false
                    guard handler.idleTag != nil, !handler.closed else { return }
                    if case .success(let bytes) = result { handler.write(bytes, context: context) }
                    handler.scheduleIdlePoll(context: context)
                }
        }
    }

    private func endIdle(_ line: [UInt8], context: ChannelHandlerContext) {
        guard let tag = idleTag else { return }
        idleTag = nil
        idleTimer?.cancel()
        idleWatcher?.cancel()
        idleWatcher = nil
        var w = ResponseWriter()
        if line.count == 4 && line.map({ $0 | 0x20 }) == Array("done".utf8) {
            w.tagged(tag, .ok, nil, "IDLE completed")
        } else {
            w.tagged(tag, .bad, nil, "Expected DONE")
        }
        if idlePolling {
            // A poll is running on the thread pool: let it finish before the next command.
            waiting = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let bytes = w.bytes
            context.eventLoop.scheduleTask(in: .milliseconds(20)) {
                let (handler, context) = bound.value
                handler.waitForPoll(bytes, context: context)
            }
            return
        }
        write(w.bytes, context: context)
    }

    private func waitForPoll(_ bytes: [UInt8], context: ChannelHandlerContext) {
        if idlePolling {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(20)) {
                let (handler, context) = bound.value
                handler.waitForPoll(bytes, context: context)
            }
            return
        }
        waiting = false
        write(bytes, context: context)
        process(context: context)
    }

    // MARK: LOGIN and AUTHENTICATE

    private func accountName(_ user: String) -> String {
        if let domain = environment.defaultDomain, !domain.isEmpty, !user.contains("@") {
            return user + (domain.hasPrefix("@") ? domain : "@" + domain)
        }
        return user
    }

    private func login(tag: [UInt8], user: String, password: [UInt8], context: ChannelHandlerContext) {
        let env = environment
        let ip = clientIP
        let name = accountName(user)
        runAsync(context: context, { () -> AuthResult in
            try? await env.throttle.wait(address: ip, user: name)
            var result = await env.auth.authenticate(.password(user: user, password: password), service: env.authService)
            if case .rejected = result, name != user {
                result = await env.auth.authenticate(.password(user: name, password: password), service: env.authService)
            }
            switch result {
            case .success(let account): await env.throttle.succeeded(address: ip, user: account.address)
            default: await env.throttle.failed(address: ip, user: name)
            }
            return result
        }, then: { handler, context, result in
            handler.finishLogin(tag: tag, user: user, result: result, context: context)
        })
    }

    private func finishLogin(tag: [UInt8], user: String, result: AuthResult, context: ChannelHandlerContext) {
        switch result {
        case .success(let account):
            let tls = session.tlsActive ? ", starttls=1" : ""
            // access.md §4.6: Courier's imapd answers OK LOGIN, then refuses an account whose
            // options say `disableimap=1` (or `disableinsecureimap=1` without TLS) and exits.
            if let refusal = Self.optionRefusal(account.options, tls: session.tlsActive) {
                environment.logger.info("LOGIN REFUSED, user=\(account.address), ip=[\(clientIP)], reason=\(refusal)")
                write(session.loginFinished(tag: tag, user: account.address), context: context)
                closeWith("* BYE \(refusal)\r\n", context: context)
                return
            }
            environment.logger.info("LOGIN, user=\(account.address), ip=[\(clientIP)], protocol=IMAP\(tls)")
            mailbox = MailboxSession(maildirPath: account.effectiveMaildir, user: account.address,
                                     options: environment.mailboxOptions)
            mailbox?.accountOptions = account.options.text
            // access.md §1.7 (A): `sharedgroup=X` picks `index`+X; `disableshared=1` sees none.
            if let file = environment.mailboxOptions.sharedIndexFile, account.options["disableshared"] != "1" {
                mailbox?.sharedIndex = SharedIndex.forAccount(indexFile: file, sharedGroup: account.options["sharedgroup"],
                                                              mungeNames: environment.mailboxOptions.mungeSharedNames)
            }
            // access.md §1.8: old tmp/ files and IMAP_EMPTYTRASH folders are purged at login.
            let options = environment.mailboxOptions
            let maildir = Maildir(path: account.effectiveMaildir, trashFolderName: options.trashFolderName)
            let logger = environment.logger
            NIOThreadPool.singleton.submit { state in
                guard case .active = state else { return }
                let purged = maildir.housekeeping(emptyTrash: options.emptyTrash)
                if purged > 0 { logger.info("purged \(purged) old messages (IMAP_EMPTYTRASH) for \(account.address)") }
            }
            write(session.loginFinished(tag: tag, user: account.address), context: context)
            // From now on the logged-in autologout applies (RFC 9051 §5.4), not the short
            // pre-login timeout armed when the LOGIN line arrived.
            armReadTimer(context: context)
        case .rejected:
            environment.logger.info("LOGIN FAILED, user=\(user), ip=[\(clientIP)]")
            write(session.loginFinished(tag: tag, user: nil), context: context)
        case .temporaryFailure:
            closeWith("* BYE Temporary problem, please try again later\r\n", context: context)
        }
    }

    private func authenticate(tag: [UInt8], mechanism: String, initial: [UInt8]?, context: ChannelHandlerContext) {
        guard let kind = SASLMechanism(name: mechanism) else {
            write(session.loginFinished(tag: tag, user: nil, failureText: "Unsupported mechanism"), context: context)
            return
        }
        var server = SASLServer(mechanism: kind, hostName: environment.hostName)
        // RFC 4959: "=" is an empty initial response.
        let initialText = initial.map { $0 == [UInt8(ascii: "=")] ? "" : String(decoding: $0, as: UTF8.self) }
        let step = server.start(initialResponse: initialText)
        sasl = (tag, server)
        saslStep(step, context: context)
    }

    private func saslLine(_ line: [UInt8], context: ChannelHandlerContext) {
        guard var server = sasl?.server, let tag = sasl?.tag else { return }
        if let result = saslFinal {
            // RFC 5802 §5 over IMAP: the client answers the server-final message with an empty line.
            saslFinal = nil
            sasl = nil
            let user: String
            if case .success(let account) = result { user = account.address } else { user = "" }
            if line.isEmpty || line == [UInt8(ascii: "\r")] {
                finishLogin(tag: tag, user: user, result: result, context: context)
            } else if line == [UInt8(ascii: "*")] {
                var w = ResponseWriter()
                w.tagged(tag, .bad, nil, "AUTHENTICATE aborted")
                write(w.bytes, context: context)
            } else {
                finishLogin(tag: tag, user: user, result: .rejected, context: context)
            }
            return
        }
        let step = server.receive(String(decoding: line, as: UTF8.self))
        sasl = (tag, server)
        saslStep(step, context: context)
    }

    private func saslStep(_ step: SASLStep, context: ChannelHandlerContext) {
        guard let (tag, _) = sasl else { return }
        switch step {
        case .challenge(let bytes):
            write(Array(("+ " + AuthEncoding.base64(bytes) + "\r\n").utf8), context: context)
        case .verifyPassword(let authorizationID, let user, let password):
            sasl = nil
            if let authorizationID, !authorizationID.isEmpty, authorizationID != user {
                write(session.loginFinished(tag: tag, user: nil), context: context)
                return
            }
            login(tag: tag, user: user, password: password, context: context)
        case .verifyCram(let algorithm, let user, let challenge, let response):
            sasl = nil
            let env = environment
            let ip = clientIP
            let name = accountName(user)
            runAsync(context: context, { () -> AuthResult in
                try? await env.throttle.wait(address: ip, user: name)
                let result = await env.auth.authenticate(.cram(algorithm, user: name, challenge: challenge, response: response), service: env.authService)
                switch result {
                case .success(let account): await env.throttle.succeeded(address: ip, user: account.address)
                default: await env.throttle.failed(address: ip, user: name)
                }
                return result
            }, then: { handler, context, result in
                handler.finishLogin(tag: tag, user: user, result: result, context: context)
            })
        case .success(let user, let finalData):
            // SCRAM: the proof checked out against the stored verifier.
            guard let result = scramAccount, let finalData else {
                sasl = nil
                write(session.loginFinished(tag: tag, user: nil, failureText: "Login failed for \(user)."), context: context)
                return
            }
            saslFinal = result
            write(Array(("+ " + AuthEncoding.base64(finalData) + "\r\n").utf8), context: context)
        case .failure(let failure):
            sasl = nil
            if failure == .aborted {
                var w = ResponseWriter()
                w.tagged(tag, .bad, nil, "AUTHENTICATE aborted")
                write(w.bytes, context: context)
            } else {
                write(session.loginFinished(tag: tag, user: nil), context: context)
            }
        case .needScramCredentials(let algorithm, let user):
            let env = environment
            let ip = clientIP
            let name = accountName(user)
            runAsync(context: context, { () -> (ScramCredentials, AuthAccount)? in
                try? await env.throttle.wait(address: ip, user: name)
                if case .success(let found?) = await env.auth.scramCredentials(user: name, service: env.authService, algorithm: algorithm) {
                    return found
                }
                await env.throttle.failed(address: ip, user: name)
                return nil
            }, then: { handler, context, found in
                guard var server = handler.sasl?.server, let tag = handler.sasl?.tag else { return }
                handler.scramAccount = found.map { .success($0.1) }
                let next = server.provide(found?.0)
                handler.sasl = (tag, server)
                handler.saslStep(next, context: context)
            })
        case .verifyExternal(let authorizationID):
            sasl = nil
            // RFC 4422 Appendix A: the certificate's identity; an authzid may only repeat it.
            guard let identity = session.externalIdentity,
                  authorizationID.map({ $0.isEmpty || $0 == identity }) ?? true else {
                write(session.loginFinished(tag: tag, user: nil), context: context)
                return
            }
            let env = environment
            runAsync(context: context, {
                await env.auth.lookup(user: identity, service: env.authService)
            }, then: { handler, context, result in
                handler.finishLogin(tag: tag, user: identity, result: result, context: context)
            })
        }
    }

    // MARK: output

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard !bytes.isEmpty, context.channel.isActive else { return }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func updateReading(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if !readingPaused && pending.count > Self.maxPending {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        } else if readingPaused && pending.count <= Self.maxPending {
            readingPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }

    /// Before login one deadline runs from the connection's start (input does not push it
    /// back, so a client trickling bytes cannot hold a slot unauthenticated); once logged in,
    /// each input restarts the autologout timer (RFC 9051 §5.4: at least 30 minutes).
    /// Input only notes its time; the timer, when it fires, moves itself to the deadline that
    /// time gives (one scheduled task per 30 minutes, not one per command).
    private func noteInput(context: ChannelHandlerContext) {
        lastInput = .now()
        if readTimer == nil { armReadTimer(context: context) }
    }

    /// (Re)starts the timer for the current phase: before login from the connection's start,
    /// after it from the last input.
    private func armReadTimer(context: ChannelHandlerContext) {
        if session.user == nil && readTimer != nil { return }
        readTimer?.cancel()
        let deadline = session.user == nil ? NIODeadline.now() + environment.preLoginTimeout
            : lastInput + environment.autologoutTimeout
        scheduleReadTimer(at: deadline, context: context)
    }

    private func scheduleReadTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        readTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            guard !handler.closed else { return }
            if handler.session.user != nil {
                let due = handler.lastInput + handler.environment.autologoutTimeout
                if due > .now() {
                    handler.scheduleReadTimer(at: due, context: context)
                    return
                }
            }
            handler.closeWith("* BYE Disconnected for inactivity.\r\n", context: context)
        }
    }

    // MARK: STARTTLS (RFC 3501 §6.2.1)

    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext = environment.tlsContext else { return }
        // Nothing the client sent before the handshake counts after it.
        pending.removeAll()
        discardInput = true
        framer.reset()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
            session.tlsStarted()
        } catch {
            closed = true
            context.close(promise: nil)
        }
    }
}
