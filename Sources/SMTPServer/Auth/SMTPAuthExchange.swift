import MailAuth
import MailAuthCore
import SMTP

/// One SMTP AUTH exchange (RFC 4954) as a value: the SASL machine of MailAuthCore with SMTP's
/// framing around it (`334 base64` challenges, `*` to cancel, SCRAM's server-final sent as one
/// more `334` that the client answers with an empty line). It never does I/O or lookups: the
/// handler performs the `Step` it returns and feeds back lines and lookup results.
struct SMTPAuthExchange: Sendable {
    /// What the handler does next.
    enum Step: Sendable {
        /// Send this `334` reply and pass the client's next line to `receive(_:)`.
        case challenge(SMTPReply)
        /// Check these credentials through the auth chain, then call `verified(_:)`.
        case verify(AuthCredentials)
        /// EXTERNAL: look up the account the client certificate names, then call `verified(_:)`.
        case lookupExternal(user: String)
        /// Look up the user's SCRAM verifier, then call `provide(_:)`.
        case scramLookup(ScramAlgorithm, user: String)
        /// Logged in as `user` (the name the client gave, qualified with DEFDOMAIN).
        case succeeded(user: String)
        /// The exchange ended without a login: send this reply. `user` is the name tried, if any
        /// (logged and throttled); `counts` is false for a cancel or a protocol slip that
        /// guessed no password.
        case failed(SMTPReply, user: String?, counts: Bool)
    }

    let mechanism: SASLMechanism
    /// `DEFDOMAIN` (with its `@`): appended to login names without one.
    let defaultDomain: String
    /// The login the TLS client certificate gives (`TLS_EXTERNAL`), for EXTERNAL.
    let externalIdentity: String?
    private var sasl: SASLServer
    /// The user being checked (for the failure report).
    private var user: String?
    /// SCRAM: the server-final message was sent; an empty line completes the login.
    private var awaitingFinalAcknowledgement: String?

    static let failed = SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Authentication failed.")
    static let cancelled = SMTPReply(501, EnhancedStatusCode(5, 0, 0), "Authentication cancelled.")
    static let temporaryFailure = SMTPReply(454, EnhancedStatusCode(4, 7, 0), "Temporary authentication failure.")

    init(mechanism: SASLMechanism, hostName: String, defaultDomain: String, externalIdentity: String? = nil,
         randomSource: (@Sendable (Int) -> [UInt8])? = nil) {
        self.mechanism = mechanism
        self.defaultDomain = defaultDomain
        self.externalIdentity = externalIdentity
        if let randomSource {
            sasl = SASLServer(mechanism: mechanism, hostName: hostName, randomSource: randomSource)
        } else {
            sasl = SASLServer(mechanism: mechanism, hostName: hostName)
        }
    }

    /// The login name as the auth modules know it: `user` → `user@DEFDOMAIN`.
    func qualified(_ name: String) -> String {
        guard !defaultDomain.isEmpty, !name.contains("@") else { return name }
        return name + (defaultDomain.hasPrefix("@") ? defaultDomain : "@" + defaultDomain)
    }

    /// `AUTH mech [initial-response]` arrived (RFC 4954 §4: `=` is an empty initial response).
    mutating func start(initialResponse: String?) -> Step {
        translate(sasl.start(initialResponse: initialResponse))
    }

    /// A client line during the exchange.
    mutating func receive(_ line: String) -> Step {
        if let user = awaitingFinalAcknowledgement {
            awaitingFinalAcknowledgement = nil
            let trimmed = line.hasSuffix("\r") ? String(line.dropLast()) : line
            // RFC 4954 §4: after the server's last challenge the client sends an empty response.
            return trimmed.isEmpty ? .succeeded(user: user) : .failed(Self.failed, user: user, counts: false)
        }
        return translate(sasl.receive(line))
    }

    /// The SCRAM verifier (nil: unknown user; the exchange goes on and fails at the end).
    mutating func provide(_ credentials: ScramCredentials?) -> Step {
        translate(sasl.provide(credentials))
    }

    /// The chain's answer to `.verify`.
    func verified(_ result: AuthResult) -> Step {
        switch result {
        case .success(let account): .succeeded(user: account.address.isEmpty ? (user ?? "") : account.address)
        case .rejected: .failed(Self.failed, user: user, counts: true)
        case .temporaryFailure: .failed(Self.temporaryFailure, user: user, counts: false)
        }
    }

    private mutating func translate(_ step: SASLStep) -> Step {
        switch step {
        case .challenge(let bytes):
            return .challenge(SMTPReply(334, nil, AuthEncoding.base64(bytes)))
        case .verifyPassword(let authorizationID, let name, let password):
            let login = qualified(name)
            user = login
            // A login may act only as itself (RFC 4616 §2 authzid).
            if let authorizationID, qualified(authorizationID) != login {
                return .failed(Self.failed, user: login, counts: true)
            }
            return .verify(.password(user: login, password: password))
        case .verifyCram(let algorithm, let name, let challenge, let response):
            let login = qualified(name)
            user = login
            return .verify(.cram(algorithm, user: login, challenge: challenge, response: response))
        case .needScramCredentials(let algorithm, let name):
            user = qualified(name)
            return .scramLookup(algorithm, user: qualified(name))
        case .verifyExternal(let authorizationID):
            // RFC 4422 Appendix A: the certificate's identity; an authzid may only repeat it.
            guard let identity = externalIdentity else { return .failed(Self.failed, user: nil, counts: false) }
            user = identity
            if let authorizationID, !authorizationID.isEmpty, authorizationID != identity {
                return .failed(Self.failed, user: identity, counts: true)
            }
            return .lookupExternal(user: identity)
        case .success(let name, let finalData):
            let login = qualified(name)
            if let finalData {
                awaitingFinalAcknowledgement = login
                return .challenge(SMTPReply(334, nil, AuthEncoding.base64(finalData)))
            }
            return .succeeded(user: login)
        case .failure(.aborted):
            return .failed(Self.cancelled, user: user, counts: false)
        case .failure(.authenticationFailed):
            return .failed(Self.failed, user: user, counts: true)
        case .failure(.malformed), .failure(.unsupported):
            return .failed(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Invalid authentication data."), user: user, counts: false)
        }
    }
}
