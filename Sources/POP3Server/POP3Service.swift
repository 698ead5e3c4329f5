import CourierDaemon
import ListenerSupport
import Logging
import MailAuth
import MailConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import POP3
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Settings of one POP3 listener from Courier's `pop3d` and `pop3d-ssl` files
/// (spec/access.md §3.5). Like Courier's start script, the plain `pop3d` service reads
/// `pop3d-ssl` too (STLS, `POP3_TLS_REQUIRED`, `TLS_CERTFILE` live there).
struct POP3Settings: Sendable {
    var implicitTLS: Bool
    var maxDaemons: Int
    var maxPerIP: Int
    var advertised: [String]
    var advertisedTLS: [String]
    var offerSTLS: Bool
    var tlsRequired: Bool
    /// `POP3_PLAINTEXT_LOGIN=1`: clear passwords without TLS from any address; otherwise only
    /// from loopback (MailAuth's PlaintextPolicy).
    var plaintextAnywhere: Bool
    var defaultDomain: String
    var maildirPath: String
    var logDeletions: Bool
    /// Ours (`POP3_APOP=1`): timestamp in the greeting and APOP for accounts with a clear password.
    var apop: Bool
    /// `MIME_UNICODE_MESSAGE_TYPE`: the wrapper's part type for messages with 8-bit headers.
    var unicodeMessageType: String
    var authService: String
    var certificateFile: String?
    var privateKeyFile: String?
    /// `TLS_VERIFYPEER`, `TLS_TRUSTCERTS`, `TLS_EXTERNAL`: client certificates and the subject
    /// field that names the login for AUTH EXTERNAL.
    var verifyPeer: ServerTLS.PeerVerification = .none
    var trustCertificates: String?
    var tlsExternalField: String?

    init(listener: ListenerConfig, site: SiteConfig) {
        let ssl = site.listener(.pop3dSSL)
        let variables = listener.kind == .pop3d ? (ssl?.variables ?? listener.variables) : listener.variables
        func words(_ name: String) -> [String] {
            (variables[name] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        implicitTLS = listener.kind == .pop3dSSL
        maxDaemons = Int(variables["MAXDAEMONS"] ?? "") ?? 40
        maxPerIP = Int(variables["MAXPERIP"] ?? "") ?? 4
        advertised = words("POP3AUTH")
        advertisedTLS = words("POP3AUTH_TLS")
        offerSTLS = (variables["POP3_STARTTLS"] ?? "YES").uppercased() != "NO"
        tlsRequired = (variables["POP3_TLS_REQUIRED"] ?? "0") == "1"
        plaintextAnywhere = variables["POP3_PLAINTEXT_LOGIN"] == "1"
        defaultDomain = variables["DEFDOMAIN"] ?? ""
        maildirPath = variables["MAILDIRPATH"] ?? "Maildir"
        let deletions = variables["POP3_LOG_DELETIONS"] ?? ""
        logDeletions = !deletions.isEmpty && !deletions.hasPrefix("0")
        apop = (variables["POP3_APOP"] ?? "0") == "1"
        unicodeMessageType = words("MIME_UNICODE_MESSAGE_TYPE").first ?? POP3UnicodeWrapper.defaultMessageType
        let port = listener.endpoints.first?.port ?? 0
        authService = AuthServiceName.forListener(port: port, default: "pop3") { variables[$0] }
        certificateFile = listener.certificateFile ?? ssl?.certificateFile
        privateKeyFile = listener.privateKeyFile ?? ssl?.privateKeyFile
        verifyPeer = ServerTLS.PeerVerification(variables["TLS_VERIFYPEER"])
        trustCertificates = variables["TLS_TRUSTCERTS"]
        tlsExternalField = variables["TLS_EXTERNAL"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// One POP3 listener (`pop3d` or `pop3d-ssl`) as a ServiceLifecycle service: binds its
/// endpoints, announces `SERVICE listening on ADDRESS:PORT`, serves until shutdown.
public struct POP3Service: Service {
    let listener: ListenerConfig
    let context: ServiceContext
    let settings: POP3Settings
    let tlsContext: NIOSSLContext?
    let chain: AuthChain
    let throttle: LoginThrottle

    public init(listener: ListenerConfig, context: ServiceContext, throttle: LoginThrottle) throws {
        self.listener = listener
        self.context = context
        self.throttle = throttle
        let site = context.config.current
        settings = POP3Settings(listener: listener, site: site)
        tlsContext = try ServerTLS.makeContext(certificateFile: settings.certificateFile,
                                               privateKeyFile: settings.privateKeyFile,
                                               verifyPeer: settings.verifyPeer,
                                               trustCertificates: settings.trustCertificates)
        if listener.kind == .pop3dSSL && tlsContext == nil {
            throw POP3ServiceError.noCertificate(listener.kind.rawValue)
        }
        let store = context.config
        chain = try AuthConfiguration.liveChain(root: site.root, logger: context.logger, generation: { store.generation })
    }

    public func run() async throws {
        let settings = self.settings
        let limiter = ConnectionLimiter(maxTotal: settings.maxDaemons, maxPerAddress: settings.maxPerIP)
        let environment = POP3ConnectionEnvironment(
            settings: settings, hostName: context.config.current.me, chain: chain, throttle: throttle,
            tlsContext: tlsContext, logger: context.logger)
        let implicitTLS = settings.implicitTLS ? tlsContext : nil
        try await ListenerRunner(listener: listener, context: context).run { channel in
            let ip = channel.remoteAddress?.ipAddress ?? "unknown"
            let port = channel.remoteAddress?.port ?? 0
            guard limiter.admit(ip) == nil else {
                // Over MAXDAEMONS/MAXPERIP: couriertcpd drops the connection.
                return channel.close()
            }
            channel.closeFuture.whenComplete { _ in limiter.release(ip) }
            return channel.eventLoop.makeCompletedFuture {
                if let implicitTLS {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: implicitTLS))
                }
                try channel.pipeline.syncOperations.addHandler(
                    POP3ConnectionHandler(environment: environment, clientIP: ip, clientPort: port))
            }
        }
    }
}

/// Why a POP3 listener cannot start.
public enum POP3ServiceError: Error, CustomStringConvertible {
    case noCertificate(String)

    public var description: String {
        switch self {
        case .noCertificate(let service): "\(service) needs TLS_CERTFILE: no readable certificate"
        }
    }
}

/// The POP3 plugin for `courier start`: pop3d and pop3d-ssl, sharing one login throttle
/// (made with the first service's logger unless one is given).
public struct POP3ListenerPlugin: ListenerPlugin {
    public let kinds: [ServiceKind] = [.pop3d, .pop3dSSL]
    private let throttle: NIOLockedValueBox<LoginThrottle?>

    public init(throttle: LoginThrottle? = nil) {
        self.throttle = NIOLockedValueBox(throttle)
    }

    public func makeService(for listener: ListenerConfig, context: ServiceContext) throws -> any Service {
        let shared = throttle.withLockedValue { current in
            if let current { return current }
            let made = LoginThrottle(logger: context.logger)
            current = made
            return made
        }
        return try POP3Service(listener: listener, context: context, throttle: shared)
    }
}
