/// How a client session behaves toward one server.
public struct ClientSettings: Sendable {
    /// TLS policy for the connection (`esmtproutes` `/SECURITY=`).
    public enum TLSPolicy: Sendable, Equatable {
        /// Never STARTTLS.
        case none
        /// STARTTLS when the server offers it, mail goes in the clear otherwise.
        case opportunistic
        /// STARTTLS is mandatory (`/SECURITY=REQUIRED` or `STARTTLS`): permanent failure without it.
        case required
        /// The connection is TLS from the start (`/SECURITY=SMTPS`): no STARTTLS.
        case implicit
    }

    /// Our EHLO/HELO name (`esmtphelo`, default `me`).
    public var heloName: String
    public var tls: TLSPolicy
    /// `esmtpauthclient` credentials for this relay.
    public var credentials: (user: String, password: String)?

    public init(heloName: String, tls: TLSPolicy = .opportunistic, credentials: (user: String, password: String)? = nil) {
        self.heloName = heloName
        self.tls = tls
        self.credentials = credentials
    }
}

/// Why a session cannot be used (before or between transactions).
public struct SessionFailure: Sendable, Equatable, Error {
    /// 5xx: the destination refuses (bounce the recipients); otherwise try again later.
    public var permanent: Bool
    public var reply: ClientReply
    public var command: String

    public init(permanent: Bool, reply: ClientReply, command: String) {
        self.permanent = permanent
        self.reply = reply
        self.command = command
    }
}

/// What the connection driver must do after feeding the session a reply.
public enum ClientEvent: Sendable, Equatable {
    /// Write these bytes.
    case send([UInt8])
    /// Do the TLS handshake now, then call `tlsEstablished()`.
    case startTLS
    /// The session is idle: `begin(_:)` the next transaction or `quit()`.
    case ready
    /// A transaction ended; one result per recipient, in order.
    case finished([RecipientResult])
    /// The session is unusable (greeting, EHLO, STARTTLS, AUTH trouble): close the connection.
    case failed(SessionFailure)
    /// QUIT was answered: close the connection.
    case closed
}
