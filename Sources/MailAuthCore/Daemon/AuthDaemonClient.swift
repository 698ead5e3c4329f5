#if canImport(Glibc)
import Glibc
#endif

/// Why a request to the authdaemon socket got no answer.
public enum AuthDaemonClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nobody listens on the socket (it does not exist, or the daemon is gone).
    case noDaemon(String)
    /// The daemon was there but the exchange failed (timeout, closed early, I/O error).
    case failed(String)

    public var description: String {
        switch self {
        case .noDaemon(let reason): "no authdaemon: \(reason)"
        case .failed(let reason): "authdaemon: \(reason)"
        }
    }
}

/// A blocking client for the authdaemon socket (spec/access.md §4.2), with no Foundation and
/// no NIO, for the per-message tools. One connection per request, as the protocol has it.
public struct AuthDaemonClient: Sendable {
    public var socketPath: String
    /// How long one exchange may take in all.
    public var timeoutMilliseconds: Int

    public init(socketPath: String, timeoutMilliseconds: Int = 30_000) {
        self.socketPath = socketPath
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// `PRE . service user`: the account, or `.fail` when no module knows it.
    public func lookup(user: String, service: String) throws(AuthDaemonClientError) -> AuthDaemonReply.AccountOutcome {
        try accountRequest(.pre(module: ".", service: service, user: user))
    }

    /// `AUTH`: the account when the data proves the user.
    public func authenticate(service: String, _ data: AuthDaemonAuthData) throws(AuthDaemonClientError) -> AuthDaemonReply.AccountOutcome {
        try accountRequest(.auth(service: service, data))
    }

    /// `PASSWD`: true when the password was changed.
    public func changePassword(service: String, user: String, oldPassword: [UInt8], newPassword: [UInt8]) throws(AuthDaemonClientError) -> Bool {
        let reply = try exchange(.passwd(service: service, user: user, oldPassword: oldPassword, newPassword: newPassword))
        guard let ok = AuthDaemonReply.decodeStatus(reply) else { throw .failed("no answer to PASSWD") }
        return ok
    }

    /// `ENUMERATE`: every account the modules can list.
    public func enumerate() throws(AuthDaemonClientError) -> [AuthDaemonEnumeratedAccount] {
        let reply = try exchange(.enumerate)
        guard let accounts = AuthDaemonReply.decodeEnumeration(reply) else { throw .failed("incomplete ENUMERATE reply") }
        return accounts
    }

    private func accountRequest(_ request: AuthDaemonRequest) throws(AuthDaemonClientError) -> AuthDaemonReply.AccountOutcome {
        let reply = try exchange(request)
        let outcome = AuthDaemonReply.decodeAccount(reply)
        if outcome == .incomplete { throw .failed(reply.isEmpty ? "closed without an answer" : "incomplete answer") }
        return outcome
    }

    /// Whether a process accepts connections on the socket: a stale socket file left by a dead
    /// daemon refuses them. Connecting alone decides it, so a busy daemon still counts as live.
    public func hasListener() -> Bool {
        guard let fd = try? connect() else { return false }
        close(fd)
        return true
    }

    /// Sends `request` and returns everything the daemon wrote before closing.
    public func exchange(_ request: AuthDaemonRequest) throws(AuthDaemonClientError) -> [UInt8] {
        let deadline = Self.now() + timeoutMilliseconds
        let fd = try connect()
        defer { close(fd) }
        try send(request.encoded, on: fd, deadline: deadline)
        _ = shutdown(fd, Int32(SHUT_WR))
        return try receive(on: fd, deadline: deadline)
    }

    private func connect() throws(AuthDaemonClientError) -> Int32 {
        guard let path = UnixSocketPath(socketPath) else { throw .noDaemon("\(socketPath): cannot name the socket") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("socket: \(Self.reason(errno))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.usable.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            if code == ENOENT || code == ECONNREFUSED || code == ENOTDIR {
                throw .noDaemon("\(socketPath): \(Self.reason(code))")
            }
            throw .failed("\(socketPath): \(Self.reason(code))")
        }
        return fd
    }

    private func send(_ bytes: [UInt8], on fd: Int32, deadline: Int) throws(AuthDaemonClientError) {
        var offset = 0
        while offset < bytes.count {
            try wait(fd, for: Int16(POLLOUT), deadline: deadline)
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.send(fd, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .failed("send: \(Self.reason(errno))")
            }
            offset += written
        }
    }

    private func receive(on fd: Int32, deadline: Int) throws(AuthDaemonClientError) -> [UInt8] {
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            try wait(fd, for: Int16(POLLIN), deadline: deadline)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .failed("recv: \(Self.reason(errno))")
            }
            if count == 0 { return reply }
            reply.append(contentsOf: chunk[0..<count])
            if reply.count > AuthDaemonLimits.maxReplyBytes { throw .failed("reply larger than \(AuthDaemonLimits.maxReplyBytes) bytes") }
        }
    }

    private func wait(_ fd: Int32, for events: Int16, deadline: Int) throws(AuthDaemonClientError) {
        while true {
            let left = deadline - Self.now()
            guard left > 0 else { throw .failed("no answer within \(timeoutMilliseconds) ms") }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(left, Int(Int32.max))))
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw .failed("poll: \(Self.reason(errno))") }
        }
    }

    static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int(time.tv_sec) * 1000 + Int(time.tv_nsec) / 1_000_000
    }

    static func reason(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "error \(code)"
    }
}
