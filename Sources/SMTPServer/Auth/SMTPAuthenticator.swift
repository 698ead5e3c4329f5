import Logging
import MailAuth
import MailAuthCore
import MailConfig
import SMTP

/// What SMTP AUTH checks credentials against: the site's auth module chain (authdaemonrc:
/// userdb, PostgreSQL) with the shared `LoginThrottle`. Every call runs in a task, off the
/// event loops; password hashing and database queries never block a connection's loop.
struct SMTPAuthenticator: Sendable {
    let chain: AuthChain
    let throttle: LoginThrottle
    /// courier-authlib's service name for SMTP (spec/mta.md §2.9).
    static let service = "esmtp"

    /// Waits out the throttle for this address and user, then asks the chain.
    func verify(_ credentials: AuthCredentials, clientIP: String, user: String) async -> AuthResult {
        try? await throttle.wait(address: clientIP, user: user)
        return await chain.authenticate(credentials, service: Self.service)
    }

    /// The SCRAM verifier of `user` (nil: unknown; a temporary failure counts as unknown here,
    /// the exchange then fails).
    func scramCredentials(user: String, algorithm: ScramAlgorithm, clientIP: String) async -> ScramCredentials? {
        try? await throttle.wait(address: clientIP, user: user)
        switch await chain.scramCredentials(user: user, service: Self.service, algorithm: algorithm) {
        case .success(let found): return found?.0
        case .failure: return nil
        }
    }

    /// EXTERNAL: the account a verified client certificate names (no password to check).
    func lookup(user: String) async -> AuthResult {
        await chain.lookup(user: user, service: Self.service)
    }

    func recordFailure(clientIP: String, user: String?) async {
        await throttle.failed(address: clientIP, user: user)
    }

    func recordSuccess(clientIP: String, user: String) async {
        await throttle.succeeded(address: clientIP, user: user)
    }
}

/// The SASL mechanisms one connection offers (spec/mta.md §2.9): `ESMTPAUTH_TLS` under TLS when
/// it is set, else `ESMTPAUTH`; names the SASL layer does not know are dropped, and so is
/// EXTERNAL (no client certificates are requested). Mechanisms that send the password in the
/// clear (PLAIN, LOGIN) are offered without TLS only to loopback clients (PlaintextPolicy), unless
/// the service file says `ESMTP_PLAINTEXT_AUTH=1`.
enum SMTPAuthMechanisms {
    static func parse(_ text: String?) -> [SASLMechanism] {
        var list: [SASLMechanism] = []
        for word in (text ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
            guard let mechanism = SASLMechanism(name: String(word)), mechanism != .external,
                  !list.contains(mechanism) else { continue }
            list.append(mechanism)
        }
        return list
    }

    /// (offered without TLS, offered under TLS) for a client at `clientIP`. `plaintextAnywhere`
    /// (`ESMTP_PLAINTEXT_AUTH=1`) lets PLAIN and LOGIN through without TLS off loopback too.
    static func offered(plain: String?, tls: String?, clientIP: String, plaintextAnywhere: Bool = false) -> (plain: [String], tls: [String]) {
        let plainList = parse(plain)
        let tlsList = parse(tls)
        let underTLS = tlsList.isEmpty ? plainList : tlsList
        let connection = PlaintextPolicy.Connection(encrypted: false, peerAddress: clientIP)
        let withoutTLS = plainList.filter { PlaintextPolicy.allows($0, on: connection, allowInsecure: plaintextAnywhere) }
        return (withoutTLS.map(\.rawValue), underTLS.map(\.rawValue))
    }
}
