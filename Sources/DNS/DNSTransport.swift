// One query/response exchange with one server over SwiftNIO: UDP from a fresh socket (so the
// kernel picks a random source port) or TCP with the 2-byte length prefix (RFC 1035 §4.2.2).
import NIOCore
import NIOPosix

/// Why one exchange failed (the resolver then tries the next server or round).
enum DNSTransportError: Error {
    case timeout
    case closed
}

/// Exchanges bytes with one server; the reply is matched by source address and query id.
struct DNSTransport: Sendable {
    let group: any EventLoopGroup

    /// Sends `query` by UDP and waits at most `timeout` for a reply from `server` with `id`;
    /// replies from elsewhere or with another id are ignored (RFC 5452 §9.1).
    func udp(_ query: [UInt8], id: UInt16, server: SocketAddress, timeout: TimeAmount) async throws -> [UInt8] {
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let bindHost = server.protocol == .inet6 ? "::" : "0.0.0.0"
        let channel = try await DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPReplyHandler(server: server, id: id, promise: promise))
                }
            }
            .bind(host: bindHost, port: 0).get()
        let timer = loop.scheduleTask(in: timeout) { promise.fail(DNSTransportError.timeout) }
        do {
            let envelope = AddressedEnvelope(remoteAddress: server, data: channel.allocator.buffer(bytes: query))
            try await channel.writeAndFlush(envelope)
            let reply = try await promise.futureResult.get()
            timer.cancel()
            try? await channel.close()
            return reply
        } catch {
            timer.cancel()
            promise.fail(error)
            try? await channel.close()
            throw error
        }
    }

    /// Sends `query` over a new TCP connection (after a truncated UDP reply, RFC 7766 §5).
    func tcp(_ query: [UInt8], id: UInt16, server: SocketAddress, timeout: TimeAmount) async throws -> [UInt8] {
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let timer = loop.scheduleTask(in: timeout) { promise.fail(DNSTransportError.timeout) }
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TCPReplyHandler(id: id, promise: promise))
                    }
                }
                .connect(to: server).get()
        } catch {
            timer.cancel()
            promise.fail(error)
            throw error
        }
        do {
            var buffer = channel.allocator.buffer(capacity: query.count + 2)
            buffer.writeInteger(UInt16(clamping: query.count))
            buffer.writeBytes(query)
            try await channel.writeAndFlush(buffer)
            let reply = try await promise.futureResult.get()
            timer.cancel()
            try? await channel.close()
            return reply
        } catch {
            timer.cancel()
            promise.fail(error)
            try? await channel.close()
            throw error
        }
    }
}

/// Completes the promise with the first datagram from the server carrying the query's id.
final class UDPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let server: SocketAddress
    let id: UInt16
    let promise: EventLoopPromise<[UInt8]>

    init(server: SocketAddress, id: UInt16, promise: EventLoopPromise<[UInt8]>) {
        self.server = server
        self.id = id
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == server else { return }
        let bytes = Array(envelope.data.readableBytesView)
        guard DNSDecoder.messageID(bytes) == id else { return }
        promise.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP port unreachable surfaces here: the server is not there.
        promise.fail(error)
    }
}

/// Collects one length-prefixed message (RFC 1035 §4.2.2) with the query's id.
final class TCPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let id: UInt16
    let promise: EventLoopPromise<[UInt8]>
    var received: ByteBuffer?

    init(id: UInt16, promise: EventLoopPromise<[UInt8]>) {
        self.id = id
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if received == nil { received = chunk } else { received?.writeBuffer(&chunk) }
        guard var buffer = received, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= Int(length) + 2 else { return }
        buffer.moveReaderIndex(forwardBy: 2)
        let bytes = buffer.readBytes(length: Int(length)) ?? []
        if DNSDecoder.messageID(bytes) == id {
            promise.succeed(bytes)
        } else {
            promise.fail(DNSTransportError.closed)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(DNSTransportError.closed)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
    }
}
