import Logging
import MailAuth
import MailAuthCore
import NIOCore
import NIOPosix
import NIOSSL
import ListenerSupport
import POP3
import MaildirCore
#if canImport(Glibc)
import Glibc
#endif

/// The NIO side of one POP3 session: frames lines, drives `POP3Session`, performs its
/// actions. Logins and all file work run off the event loop; while one runs, input waits.
/// Messages stream from the file in chunks, one chunk in flight at a time (back-pressure:
/// the next chunk is read only when the previous one was written to the socket).
final class POP3ConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let environment: POP3ConnectionEnvironment
    private var session: POP3Session
    private let clientIP: String
    private let clientPort: Int
    private var pending: [UInt8] = []
    /// Discarding the rest of an overlong line.
    private var discarding = false
    private var waiting = false
    private var closed = false
    private var quitting = false
    private var encrypted: Bool
    private var maildir: String?
    private var idleTimer: Scheduled<Void>?
    private var lastActivity = NIODeadline.now()
    private var unflushed = false
    /// Seen-flag renames after RETR still running on the thread pool (the next command does not
    /// wait for them), by message index: RETR or TOP of such a message, and QUIT's deletions,
    /// wait, since the rename changes the file's name.
    private var seenRenames: [Int: EventLoopFuture<Void>] = [:]
    /// RETR's read-ahead: after a RETR of message n, message n+1 (when it fits one chunk) is
    /// read and encoded on the thread pool while the client still takes in message n; a RETR
    /// of n+1 then answers from it without waiting for a thread-pool job. Any other RETR or
    /// TOP drops it, so a session holds at most one message ahead.
    private var readAhead: (index: Int, path: String, result: EventLoopFuture<POP3FileChunk?>)?
    private var received = 0
    private var sent = 0
    private let started = time(nil)
    /// Unprocessed pipelined input kept while a command runs; past this, reading stops.
    private static let maxPending = 64 * 1024
    private var readingPaused = false
    /// `process` is running (it is not entered again from a command that finished at once).
    private var processing = false
    /// The work `runAsync` started (a login): cancelled when the connection goes, so a login
    /// waiting for the folder lock stops retrying (its answer would go nowhere).
    private var asyncWork: Task<Void, Never>?

    init(environment: POP3ConnectionEnvironment, clientIP: String, clientPort: Int) {
        self.environment = environment
        self.clientIP = clientIP
        self.clientPort = clientPort
        encrypted = environment.settings.implicitTLS
        let plaintext = PlaintextPolicy.allowsPlaintextPasswords(
            on: .init(encrypted: false, peerAddress: clientIP), allowInsecure: environment.settings.plaintextAnywhere)
        session = POP3Session(configuration: POP3SessionConfiguration(
            hostName: environment.hostName,
            stlsAvailable: environment.tlsContext != nil && environment.settings.offerSTLS && !environment.settings.implicitTLS,
            tlsActive: environment.settings.implicitTLS,
            tlsRequired: environment.settings.tlsRequired && !environment.settings.implicitTLS,
            plaintextAllowedWithoutTLS: plaintext,
            advertisedMechanisms: environment.settings.advertised,
            advertisedMechanismsTLS: environment.settings.advertisedTLS,
            apopTimestamp: environment.settings.apop
                ? APOPDigest.timestamp(processID: getpid(), random: PasswordMaker.randomBytes(8), host: environment.hostName)
                : nil,
            unicodeMessageType: environment.settings.unicodeMessageType,
            unicodeBoundary: POP3UnicodeWrapper.courierBoundary(processID: getpid(), time: Int64(time(nil)))))
    }

    private var where_: String { "ip=[\(clientIP)], port=[\(clientPort)]" }

    func channelActive(context: ChannelHandlerContext) {
        write(session.greeting, context: context)
        flush(context: context)
        noteActivity(context: context)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identity = ClientCertificateIdentity.afterHandshake(event, context: context,
                                                                   field: environment.settings.tlsExternalField) {
            session.clientCertificateVerified(identity: identity)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        asyncWork?.cancel()
        if !quitting, let user = session.user {
            // A dropped connection deletes nothing (spec/access.md §3.4).
            environment.logger.info("DISCONNECTED, user=\(user), \(where_), \(counts)")
        }
        closed = true
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        environment.logger.debug("connection error from \(clientIP): \(error)")
        context.close(promise: nil)
    }

    private var counts: String {
        "top=\(session.topCount), retr=\(session.retrCount), rcvd=\(received), sent=\(sent), time=\(time(nil) - started)"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received += buffer.readableBytes
        pending.append(contentsOf: buffer.readableBytesView)
        noteActivity(context: context)
        process(context: context)
    }

    // MARK: the loop

    private func process(context: ChannelHandlerContext) {
        // A command that completes at once (RETR of a message read ahead) ends in a call back
        // here from inside the loop: the loop itself goes on with the next line.
        if processing { return }
        processing = true
        defer { processing = false }
        var offset = 0
        while !waiting && !closed && offset < pending.count {
            guard let newline = pending[offset...].firstIndex(of: UInt8(ascii: "\n")) else {
                if pending.count - offset > POP3Command.maxLineBytes {
                    // Overlong: answer once, drop what we have, keep dropping to the line end.
                    if !discarding { perform(session.receiveOverlongLine(), context: context) }
                    discarding = true
                    offset = pending.count
                }
                break
            }
            var line = pending[offset..<newline]
            offset = newline + 1
            if line.last == 13 { line = line.dropLast() }
            if discarding {
                discarding = false
                continue
            }
            if line.count > POP3Command.maxLineBytes {
                perform(session.receiveOverlongLine(), context: context)
                continue
            }
            perform(session.receive(line: line), context: context)
        }
        pending.removeFirst(min(offset, pending.count))
        flush(context: context)
        updateReading(context: context)
    }

    private func updateReading(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if !readingPaused && pending.count > Self.maxPending {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        } else if readingPaused && pending.count <= Self.maxPending / 2 {
            readingPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }

    private func perform(_ actions: [POP3Action], context: ChannelHandlerContext) {
        for action in actions { perform(action, context: context) }
    }

    private func perform(_ action: POP3Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let bytes):
            write(bytes, context: context)
        case .sendAndClose(let bytes):
            write(bytes, context: context)
            flush(context: context)
            if session.user == nil && !quitting {
                environment.logger.info("LOGOUT, \(where_)")
            }
            closed = true
            context.close(promise: nil)
        case .sendAndStartTLS(let bytes):
            write(bytes, context: context)
            flush(context: context)
            startTLS(context: context)
        case .authenticate(let request):
            authenticate(request, context: context)
        case .recordFailedLogin(let user):
            let throttle = environment.throttle
            let address = clientIP
            let qualified = user.map { POP3Login.qualified($0, defaultDomain: environment.settings.defaultDomain) }
            environment.logger.info("LOGIN FAILED, user=\(qualified ?? ""), \(where_)")
            Task { await throttle.failed(address: address, user: qualified) }
        case .transmit(let index, let path, let size, let topLines, let wrapper):
            transmit(index: index, path: path, size: size, topLines: topLines, wrapper: wrapper, context: context)
        case .quit(let reply, let deletions):
            quit(reply: reply, deletions: deletions, context: context)
        }
    }

    /// Runs `work` off the event loop; input waits until `then` ran on the loop.
    private func runAsync<T: Sendable>(context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
                                       then: @escaping (POP3ConnectionHandler, ChannelHandlerContext, T) -> Void) {
        waiting = true
        flush(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let thenBound = NIOLoopBound(then, eventLoop: context.eventLoop)
        let done = context.eventLoop.makePromise(of: T.self)
        asyncWork = Task { done.succeed(await work()) }
        done.futureResult.whenSuccess { value in
            let (handler, context) = bound.value
            handler.asyncWork = nil
            handler.waiting = false
            guard !handler.closed else { return }
            thenBound.value(handler, context, value)
            handler.process(context: context)
        }
    }

    // MARK: login

    private func authenticate(_ request: POP3AuthRequest, context: ChannelHandlerContext) {
        let environment = self.environment
        let clientIP = self.clientIP
        let encrypted = self.encrypted
        runAsync(context: context, {
            await POP3Login.run(request, environment: environment, clientIP: clientIP, encrypted: encrypted)
        }, then: { handler, context, outcome in
            switch outcome {
            case .scram(let credentials):
                handler.perform(handler.session.provideScram(credentials), context: context)
            case .failed(let temporary):
                // A module that could not answer is not a wrong password: say which it was.
                let what = temporary ? "LOGIN TEMPFAIL" : "LOGIN FAILED"
                handler.environment.logger.info("\(what), user=\(handler.session.attemptedUser ?? ""), \(handler.where_)")
                handler.perform(handler.session.loginFailed(temporary: temporary), context: context)
            case .refused(let text):
                handler.environment.logger.info("LOGIN REFUSED, user=\(handler.session.attemptedUser ?? ""), \(handler.where_): \(text)")
                handler.perform(handler.session.loginRefused(text), context: context)
            case .loggedIn(let user, let maildir, let listing):
                handler.maildir = maildir
                if listing.sizeListSaveFailed {
                    handler.environment.logger.error("Error while saving courierpop3dsizelist, user=\(user)")
                }
                handler.environment.logger.info("LOGIN, user=\(user), \(handler.where_)\(handler.encrypted ? ", stls=1" : "")")
                handler.perform(handler.session.loggedIn(user: user, listing: listing), context: context)
                handler.noteActivity(context: context)
            }
        })
    }

    // MARK: RETR and TOP

    /// One thread-pool job opens the file and reads and encodes its first chunk with the reply
    /// line in front; a message that fits one chunk goes out in one write. A `wrapper`'s header
    /// goes through the encoder before the file, its footer after it.
    private func transmit(index: Int, path: String, size: Int64, topLines: Int?, wrapper: POP3UnicodeWrapper?,
                          context: ChannelHandlerContext) {
        guard let maildir else { return }
        waiting = true
        flush(context: context)
        if let ahead = readAhead {
            readAhead = nil
            if topLines == nil, wrapper == nil, ahead.index == index, ahead.path == path, seenRenames[index] == nil {
                sendReadAhead(ahead.result, index: index, path: path, size: size, context: context)
                return
            }
        }
        if let pending = seenRenames[index] {
            // The file is being renamed: open it under its new name once that is done.
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            pending.whenComplete { _ in
                let (handler, context) = bound.value
                guard !handler.closed, handler.session.messages.indices.contains(index) else { return }
                handler.transmit(index: index, path: handler.session.messages[index].path, size: size,
                                 topLines: topLines, wrapper: wrapper, context: context)
            }
            return
        }
        let file = maildir + "/" + path
        var reply = POP3Replies.line(topLines == nil ? POP3Replies.octetsFollow(size) : POP3Replies.headersFollow)
        var start = POP3MessageEncoder(topBodyLines: topLines)
        if let wrapper { start.encode(wrapper.header, into: &reply) }
        let header = reply
        let encoder = start
        let footer = wrapper?.footer ?? []
        let allocator = context.channel.allocator
        // A cached message is answered here, without the thread pool.
        if let chunk = POP3CachedMessageFile.read(file, encoder: encoder, prefix: header, suffix: footer,
                                                  allocator: allocator) {
            send(chunk, fd: -1, index: index, path: path, markSeen: topLines == nil, suffix: footer, context: context)
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        NIOThreadPool.singleton.runIfActive(eventLoop: loop) { () -> (Int32, POP3FileChunk)? in
            guard let fd = POP3MessageFile.open(file) else { return nil }
            return (fd, POP3MessageFile.readChunk(fd: fd, encoder: encoder, prefix: header, suffix: footer,
                                                  allocator: allocator))
        }.whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(.some((let fd, let chunk))):
                handler.send(chunk, fd: fd, index: index, path: path, markSeen: topLines == nil, suffix: footer,
                             context: context)
            case .success(.none):
                guard !handler.closed else { return }
                handler.write(POP3Replies.line(POP3Replies.messageGone), context: context)
                handler.finishTransmit(context: context)
            case .failure:
                handler.closed = true
                context.close(promise: nil)
            }
        }
    }

    /// RETR of the message read ahead: its bytes once the job is done (at once, usually); when
    /// the job found nothing usable (file gone, read error), the file is read the ordinary way.
    private func sendReadAhead(_ result: EventLoopFuture<POP3FileChunk?>, index: Int, path: String, size: Int64,
                               context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        result.whenComplete { outcome in
            let (handler, context) = bound.value
            guard !handler.closed else { return }
            if case .success(.some(let chunk)) = outcome {
                handler.send(chunk, fd: -1, index: index, path: path, markSeen: true, suffix: [], context: context)
            } else {
                handler.transmit(index: index, path: path, size: size, topLines: nil, wrapper: nil, context: context)
            }
        }
    }

    /// Starts reading the message after `index` for a RETR that may follow (see `readAhead`):
    /// only a live message that fits one chunk and needs no Unicode wrapper, whose file is not
    /// being renamed. A cached file is read at once on the event loop, others on the thread pool.
    private func startReadAhead(after index: Int, context: ChannelHandlerContext) {
        let next = index + 1
        guard let maildir, session.messages.indices.contains(next) else { return }
        let message = session.messages[next]
        guard !message.deleted, seenRenames[next] == nil, message.size <= Int64(POP3MessageFile.chunkSize),
              !(message.utf8 && !session.utf8Enabled) else { return }
        let file = maildir + "/" + message.path
        let header = POP3Replies.line(POP3Replies.octetsFollow(message.size))
        let allocator = context.channel.allocator
        // A cached file is read and encoded right here (no thread-pool job, no wakeup), after
        // RETR n went out, while the client takes it in.
        if let chunk = POP3CachedMessageFile.read(file, encoder: POP3MessageEncoder(), prefix: header, suffix: [],
                                                  allocator: allocator) {
            readAhead = (next, message.path, context.eventLoop.makeSucceededFuture(chunk))
            return
        }
        let result = NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { () -> POP3FileChunk? in
            guard let fd = POP3MessageFile.open(file) else { return nil }
            let chunk = POP3MessageFile.readChunk(fd: fd, encoder: POP3MessageEncoder(), prefix: header,
                                                  allocator: allocator)
            guard chunk.done else {
                close(fd)
                return nil
            }
            return chunk.failed ? nil : chunk
        }
        readAhead = (next, message.path, result)
    }

    /// Writes one encoded chunk; when the file goes on, reads the next one once the socket
    /// took this one (back-pressure: one chunk in flight).
    private func send(_ chunk: POP3FileChunk, fd: Int32, index: Int, path: String, markSeen: Bool, suffix: [UInt8],
                      context: ChannelHandlerContext) {
        guard !closed, context.channel.isActive else {
            if !chunk.done { close(fd) }
            return
        }
        if chunk.failed {
            environment.logger.error("I/O error reading \(path), user=\(session.user ?? ""), \(where_): disconnecting")
            closed = true
            context.close(promise: nil)
            return
        }
        if chunk.done {
            write(chunk.bytes, context: context)
            flush(context: context)
            finishTransmit(index: index, path: path, markSeen: markSeen, context: context)
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let promise = loop.makePromise(of: Void.self)
        write(chunk.bytes, context: context, promise: promise)
        flush(context: context)
        let encoder = chunk.encoder
        let allocator = context.channel.allocator
        promise.futureResult.whenComplete { written in
            let (handler, context) = bound.value
            guard case .success = written, !handler.closed else {
                close(fd)
                return
            }
            handler.noteActivity(context: context)
            NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
                POP3MessageFile.readChunk(fd: fd, encoder: encoder, prefix: [], suffix: suffix, allocator: allocator)
            }.whenComplete { result in
                let (handler, context) = bound.value
                guard case .success(let next) = result else {
                    close(fd)
                    handler.closed = true
                    context.close(promise: nil)
                    return
                }
                handler.send(next, fd: fd, index: index, path: path, markSeen: markSeen, suffix: suffix, context: context)
            }
        }
    }

    private func finishTransmit(index: Int = 0, path: String = "", markSeen: Bool = false, context: ChannelHandlerContext) {
        waiting = false
        // RFC 1939 doesn't say; Courier marks a retrieved message seen once it was sent (§3.4).
        // Most retrieved messages already are: then there is no file work at all. Otherwise the
        // rename runs on the thread pool while the next command is already being read.
        if markSeen, let maildir, POP3Mailbox.needsSeenFlag(path) {
            let loop = context.eventLoop
            let done = loop.makePromise(of: Void.self)
            seenRenames[index] = done.futureResult
            let bound = NIOLoopBound(self, eventLoop: loop)
            NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
                POP3Mailbox(path: maildir).markSeen(path)
            }.whenComplete { result in
                let handler = bound.value
                handler.session.transmitted(index: index, newPath: (try? result.get()) ?? nil)
                if handler.seenRenames[index] === done.futureResult { handler.seenRenames[index] = nil }
                done.succeed(())
            }
        }
        if markSeen { startReadAhead(after: index, context: context) }
        process(context: context)
    }

    // MARK: QUIT

    private func quit(reply: [UInt8], deletions: [String], context: ChannelHandlerContext) {
        quitting = true
        waiting = true
        // Courier sends +OK first, then deletes (spec/access.md §3.2).
        write(reply, context: context)
        flush(context: context)
        if !seenRenames.isEmpty {
            // A message to delete may be one being renamed: take the names after that. Without
            // deletions too, the session ends (LOGOUT logged, connection closed) only once every
            // RETR's seen-rename is on disk.
            let pending = EventLoopFuture.andAllComplete(Array(seenRenames.values), on: context.eventLoop)
            seenRenames = [:]
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            pending.whenComplete { _ in
                let (handler, context) = bound.value
                handler.removeAndClose(deletions: handler.session.messages.filter(\.deleted).map(\.path), context: context)
            }
            return
        }
        removeAndClose(deletions: deletions, context: context)
    }

    /// The UPDATE state after `+OK Bye-bye.`: unlink, log, close.
    private func removeAndClose(deletions: [String], context: ChannelHandlerContext) {
        let user = session.user ?? ""
        let logLine = "LOGOUT, user=\(user), \(where_), \(counts)"
        guard let maildir, !deletions.isEmpty else {
            environment.logger.info("\(logLine)")
            closed = true
            context.close(promise: nil)
            return
        }
        let logger = environment.logger
        let logDeletions = environment.settings.logDeletions
        let whereText = where_
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) {
            POP3Mailbox(path: maildir).delete(deletions)
        }.whenComplete { result in
            if logDeletions, case .success(let removed) = result {
                for file in removed { logger.info("DELETED, user=\(user), \(whereText), filename=\(file)") }
            }
            logger.info("\(logLine)")
            bound.value.close(promise: nil)
        }
        closed = true
    }

    // MARK: STLS (RFC 2595 §4)

    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext = environment.tlsContext else { return }
        // Nothing the client pipelined before the handshake counts after it.
        pending.removeAll()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
            session.tlsStarted()
            encrypted = true
        } catch {
            closed = true
            context.close(promise: nil)
        }
    }

    // MARK: output

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        write(buffer, context: context, promise: promise)
    }

    private func write(_ buffer: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        guard context.channel.isActive else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        sent += buffer.readableBytes
        context.write(wrapOutboundOut(buffer), promise: promise)
        unflushed = true
    }

    private func flush(context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    /// Restarts the inactivity clock. One timer per connection stays armed and, when it fires
    /// early because of later activity, re-arms itself for the rest (scheduling a new timer on
    /// every command cost more than the command).
    private func noteActivity(context: ChannelHandlerContext) {
        lastActivity = .now()
        guard idleTimer == nil else { return }
        scheduleIdleCheck(at: lastActivity + currentTimeout, context: context)
    }

    private var currentTimeout: TimeAmount {
        session.inTransaction ? environment.commandTimeout : environment.loginTimeout
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.idleTimer = nil
            guard !handler.closed else { return }
            let due = handler.lastActivity + handler.currentTimeout
            if due > .now() {
                handler.scheduleIdleCheck(at: due, context: context)
                return
            }
            handler.environment.logger.info("TIMEOUT, user=\(handler.session.user ?? ""), \(handler.where_)")
            context.close(promise: nil)
        }
    }
}
