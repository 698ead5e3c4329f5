import NIOCore
import SMTPClient
import Synchronization

/// SMTP sessions kept open after a transaction for the next message to the same server
/// (spec/mta.md §5.3.2: Courier's esmtp client keeps a session per host open for
/// `esmtptimeoutkeepalive`). A session is in the pool only while idle; taking it out hands it
/// to one delivery, which checks it with RSET before MAIL FROM. At most `maxPerKey` idle
/// sessions per server and `maxTotal` in all; the session itself leaves when it closes or its
/// keep-alive runs out.
public final class SMTPSessionPool: Sendable {
    /// What a session was opened with: only a delivery wanting exactly the same may reuse it.
    struct Key: Hashable, Sendable {
        var host: String
        var address: String
        var port: Int
        var source: String?
        var heloName: String
        var tls: ClientSettings.TLSPolicy
        var user: String?
        var password: String?
        var certificateCheck: TLSCertificateCheck?
    }

    let maxPerKey: Int
    let maxTotal: Int
    private let idle = Mutex<(sessions: [Key: [PooledSMTPSession]], count: Int)>(([:], 0))

    init(maxPerKey: Int, maxTotal: Int) {
        self.maxPerKey = max(0, maxPerKey)
        self.maxTotal = max(0, maxTotal)
    }

    /// The most recently idle session for `key`, now owned by the caller.
    func checkOut(_ key: Key) -> PooledSMTPSession? {
        idle.withLock { table in
            guard var list = table.sessions[key], let session = list.popLast() else { return nil }
            table.sessions[key] = list.isEmpty ? nil : list
            table.count -= 1
            return session
        }
    }

    /// Puts an idle session back; false when the pool is full (the caller ends it).
    func checkIn(_ session: PooledSMTPSession, key: Key) -> Bool {
        idle.withLock { table in
            let list = table.sessions[key] ?? []
            guard list.count < maxPerKey, table.count < maxTotal, !list.contains(where: { $0 === session }) else {
                return false
            }
            table.sessions[key] = list + [session]
            table.count += 1
            return true
        }
    }

    /// Takes a session out because it closed or expired; false when it was not in the pool
    /// (a delivery took it meanwhile).
    func remove(_ session: PooledSMTPSession, key: Key) -> Bool {
        idle.withLock { table in
            guard var list = table.sessions[key], let index = list.firstIndex(where: { $0 === session }) else {
                return false
            }
            list.remove(at: index)
            table.sessions[key] = list.isEmpty ? nil : list
            table.count -= 1
            return true
        }
    }

    /// Idle sessions now (tests, logs).
    var idleCount: Int { idle.withLock { $0.count } }

    /// Ends every idle session with QUIT (shutdown) and waits for them to close, at most
    /// `seconds`; sessions still carrying a message finish it and QUIT on their own terms.
    public func closeIdle(waitingAtMost seconds: Int64 = 2) async {
        let sessions: [PooledSMTPSession] = idle.withLock { table in
            let all = table.sessions.values.flatMap { $0 }
            table = ([:], 0)
            return all
        }
        guard let loop = sessions.first?.channel.eventLoop else { return }
        // Event-loop futures, not Task.sleep: this runs while the queue runner is being
        // cancelled, and a cancelled sleep would not wait at all.
        let done = loop.makePromise(of: Void.self)
        for session in sessions { session.quit() }
        EventLoopFuture.andAllComplete(sessions.map { $0.channel.closeFuture }, on: loop)
            .whenComplete { _ in done.succeed(()) }
        loop.scheduleTask(in: .seconds(max(seconds, 0))) { done.succeed(()) }
        try? await done.futureResult.get()
    }
}

/// An open, idle SMTP session that a delivery took from the pool.
final class PooledSMTPSession: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<SMTPClientHandler>

    init(channel: any Channel, handler: NIOLoopBound<SMTPClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Runs `transaction` on this session (RSET first). `.unreachable` when the session turned
    /// out to be dead before the transaction began: the caller opens a new one.
    func run(_ transaction: ClientTransaction) async -> ConnectionResult {
        let promise = channel.eventLoop.makePromise(of: ConnectionResult.self)
        let handler = self.handler
        channel.eventLoop.execute {
            handler.value.startReused(transaction, promise: promise)
        }
        return (try? await promise.futureResult.get()) ?? .unreachable("connection failed")
    }

    /// QUIT and close (the pool gave it up).
    func quit() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.quitIdle() }
    }
}
