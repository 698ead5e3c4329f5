#if canImport(Glibc)
import Glibc
#endif
import Logging
import MailAuthCore
import NIOCore
import NIOPosix

/// Courier's authdaemond on a Unix socket (spec/access.md §4.1–4.2): one request per
/// connection, answered from the module chain. Decoding happens on the socket's own event loop,
/// and so does the start of a PRE or AUTH (a userdb lookup, a digest); crypt(3) hashes, modules
/// that wait (PostgreSQL), PASSWD, ENUMERATE and the rebuild after a reload run in tasks off it.
public struct AuthDaemonServer: Sendable {
    public let socketPath: String
    public let responder: AuthDaemonResponder
    /// A client that sends nothing for this long is disconnected.
    public var idleTimeout: TimeAmount = .seconds(30)
    /// The group given the socket directory (the mail group, so deliveries running as the
    /// mail owner may connect to a daemon running as root); nil leaves it alone.
    public var directoryGroup: UInt32?
    /// How many requests are answered at once (authdaemonrc `daemons`).
    public let workers: AuthWorkerPool

    public init(socketPath: String, responder: AuthDaemonResponder, workers: Int = 5) {
        self.socketPath = socketPath
        self.responder = responder
        self.workers = AuthWorkerPool(limit: workers)
    }

    /// Creates the socket directory (mode 0750 when new), refuses when another daemon answers
    /// on the socket, removes a stale socket file, binds (socket mode 0777: the directory
    /// decides who may connect, as in Courier), and returns the listening channel.
    public func bind() async throws -> Channel {
        let directory = socketPath.lastIndex(of: "/").map { String(socketPath[..<$0]) } ?? "."
        try Self.makeDirectories(directory)
        if let directoryGroup, chown(directory, uid_t.max, gid_t(directoryGroup)) != 0 {
            let reason = strerror(errno).map { String(cString: $0) } ?? "error"
            throw AuthDaemonServerError(reason: "\(directory): cannot give it to group \(directoryGroup): \(reason)")
        }
        // A process that accepts a connection is a live daemon, however slow its answers; a stale
        // socket file refuses connections and is replaced.
        if AuthDaemonClient(socketPath: socketPath).hasListener() {
            throw AuthDaemonServerError(reason: "\(socketPath): another authdaemon answers on this socket")
        }
        guard let path = UnixSocketPath(socketPath) else {
            throw AuthDaemonServerError(reason: "\(socketPath): cannot name the socket")
        }
        let responder = self.responder
        let idleTimeout = self.idleTimeout
        let workers = self.workers
        // One event loop for the listener and every connection it accepts (a connection handed
        // to another loop costs a cross-thread wakeup per request), and not one the protocol
        // servers use: PRE lookups are answered on it (see AuthDaemonConnectionHandler).
        let loop = Self.loops.next()
        let bootstrap = ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // A request fits one read; a second read per wakeup would only find EAGAIN.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AuthDaemonConnectionHandler(responder: responder, workers: workers, idleTimeout: idleTimeout))
                }
            }
        let channel = try await bootstrap.bind(unixDomainSocketPath: path.usable, cleanupExistingSocketFile: true).get()
        _ = chmod(socketPath, 0o777)
        withExtendedLifetime(path) {}
        return channel
    }

    /// Serves until the task is cancelled, then closes the socket and removes its file.
    /// `listening` runs once the socket accepts connections.
    public func run(logger: Logger, listening: @Sendable () -> Void = {}) async throws {
        let channel = try await bind()
        logger.info("authdaemon listening on \(socketPath)")
        listening()
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        _ = unlink(socketPath)
    }

    /// The authdaemon socket's own thread, shared by every socket of the process.
    static let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o750) != 0, errno != EEXIST {
                let reason = strerror(errno).map { String(cString: $0) } ?? "error"
                throw AuthDaemonServerError(reason: "\(current): cannot create: \(reason)")
            }
        }
    }
}

/// Why the authdaemon socket could not be served.
public struct AuthDaemonServerError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

extension AuthDaemonRequest {
    /// `PRE` and `AUTH`: answered from a lookup and at most one digest or HMAC (a crypt(3)
    /// hash is checked in a task of its own, see AuthChain.authenticate).
    var startsOnSocketThread: Bool {
        switch self {
        case .pre, .auth: return true
        case .passwd, .enumerate: return false
        }
    }
}

/// One client connection: collects the request, answers once, closes.
final class AuthDaemonConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: AuthDaemonResponder
    private let workers: AuthWorkerPool
    private let idleTimeout: TimeAmount
    private var received: [UInt8] = []
    private var answered = false
    private var timer: Scheduled<Void>?

    init(responder: AuthDaemonResponder, workers: AuthWorkerPool, idleTimeout: TimeAmount) {
        self.responder = responder
        self.workers = workers
        self.idleTimeout = idleTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: idleTimeout) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        switch AuthDaemonRequestDecoder.decode(received) {
        case .needMore:
            return
        case .malformed(let reason):
            answered = true
            responder.logger.debug("request dropped: \(reason)")
            context.close(promise: nil)
        case .request(let request, let environment, _):
            answered = true
            if let remote = environment.first(where: { $0.name == "TCPREMOTEIP" }) {
                responder.logger.debug("request for \(remote.value)")
            }
            received = []
            let channel = context.channel
            let responder = self.responder
            let workers = self.workers
            // PRE and AUTH with a worker free start right here, on the socket's own thread,
            // instead of waking a task thread and then this loop again: a userdb lookup is a
            // stat and a few reads of a mapped file, a digest or HMAC check a microsecond. A
            // crypt(3) hash ($1$, $6$, $y$) is checked in a task, and a module that waits
            // (PostgreSQL) suspends the task; either way it goes on off this thread, still
            // holding its worker. PASSWD (rewrites files) and ENUMERATE always run in tasks, and
            // so does a request that would first read files: the first after a reload rebuilds
            // the chain (may recompile the whole userdb), and a userdb not yet mapped is loaded
            // (or compiled from the text when there is no userdb.dat).
            if request.startsOnSocketThread, responder.chain.isReady, workers.tryAcquire() {
                Self.answerNow(request, responder: responder, workers: workers, channel: channel)
                return
            }
            let promise = context.eventLoop.makePromise(of: [UInt8]?.self)
            promise.completeWithTask { await workers.run { await responder.answer(request) } }
            promise.futureResult.whenComplete { result in
                guard case .success(let reply) = result else {
                    channel.close(promise: nil)
                    return
                }
                Self.send(reply, on: channel)
            }
        }
    }

    /// Answers with a worker already taken, starting on the calling thread.
    private static func answerNow(_ request: AuthDaemonRequest, responder: AuthDaemonResponder, workers: AuthWorkerPool,
                                  channel: any Channel) {
        Task.immediate {
            let reply = await responder.answer(request)
            workers.release()
            send(reply, on: channel)
        }
    }

    /// Writes the reply and closes; nil closes without a reply (a temporary failure).
    private static func send(_ reply: [UInt8]?, on channel: Channel) {
        guard let reply else {
            channel.close(promise: nil)
            return
        }
        channel.writeAndFlush(ByteBuffer(bytes: reply)).whenComplete { _ in channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client finished writing before the request was complete: nothing to answer.
        if let event = event as? ChannelEvent, event == .inputClosed, !answered {
            answered = true
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
