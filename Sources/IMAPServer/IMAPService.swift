#if canImport(Glibc)
import Glibc
#endif
import CourierDaemon
import IMAP
import ListenerSupport
import Logging
import MailAuth
import MailAuthCore
import MailConfig
import MaildirCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// One IMAP listener (`imapd` or `imapd-ssl`) as a ServiceLifecycle service, configured by
/// Courier's `imapd`/`imapd-ssl` files (spec/access.md §2.7-2.8): PORT/ADDRESS (SSLPORT/
/// SSLADDRESS), MAXDAEMONS, MAXPERIP, IMAP_CAPABILITY(_TLS), IMAP_TLS_REQUIRED, IMAPDSTARTTLS,
/// TLS_CERTFILE/TLS_PRIVATE_KEYFILE, DEFDOMAIN, IMAP_TRASHFOLDERNAME.
public struct IMAPService: Service {
    let listener: ListenerConfig
    let context: ServiceContext
    let tlsContext: NIOSSLContext?
    let auth: AuthChain

    /// The `imapd-ssl` listener's settings: Courier's start script reads `imapd-ssl` for the
    /// plain port too (IMAPDSTARTTLS, IMAP_TLS_REQUIRED, TLS_CERTFILE; spec/access.md §2.8).
    let sslSettings: ListenerConfig?
    /// `TLS_EXTERNAL`: the client certificate field naming the login for AUTHENTICATE EXTERNAL.
    let tlsExternalField: String?

    public init(listener: ListenerConfig, context: ServiceContext, auth: AuthChain) throws {
        self.listener = listener
        self.context = context
        self.auth = auth
        let ssl = context.config.current.listeners.first { $0.kind == .imapdSSL }
        sslSettings = ssl
        let tlsSource = listener.certificateFile == nil ? (ssl ?? listener) : listener
        // Courier keeps the TLS_* settings in imapd-ssl; imapd's own file may override them.
        let tlsSetting = { (name: String) in listener.variables[name] ?? ssl?.variables[name] }
        tlsContext = try ServerTLS.makeContext(certificateFile: tlsSource.certificateFile,
                                               privateKeyFile: tlsSource.privateKeyFile,
                                               verifyPeer: ServerTLS.PeerVerification(tlsSetting("TLS_VERIFYPEER")),
                                               trustCertificates: tlsSetting("TLS_TRUSTCERTS"))
        tlsExternalField = tlsSetting("TLS_EXTERNAL").flatMap { $0.isEmpty ? nil : $0 }
        if listener.kind == .imapdSSL && tlsContext == nil {
            throw IMAPServiceError.noCertificate(listener.kind.rawValue)
        }
    }

    /// The capabilities we serve out of a configured `IMAP_CAPABILITY` list: words we do not
    /// implement are dropped (never advertise what we cannot do); AUTH= words choose the SASL
    /// mechanisms; our extensions beyond Courier's list are added.
    static func capabilities(from text: String?) -> (words: [String], mechanisms: [String]) {
        let supported = IMAPSessionConfiguration.defaultCapabilities
        guard let text, !text.isEmpty else { return (supported, []) }
        var words: [String] = []
        var mechanisms: [String] = []
        for var word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            // RFC 7889: the limit's value is ours (IMAPLimits), whatever the file says.
            if word.uppercased().hasPrefix("APPENDLIMIT=") { word = "APPENDLIMIT" }
            if word.uppercased().hasPrefix("AUTH=") {
                mechanisms.append(String(word.dropFirst(5)).uppercased())
            } else if supported.contains(where: { $0.uppercased() == word.uppercased() }) || word.uppercased() == "LITERAL-" {
                words.append(word)
            }
        }
        // RFC 7888: a site that asks for LITERAL- (and not LITERAL+) gets the restricted form only.
        let literalMinusOnly = words.contains { $0.uppercased() == "LITERAL-" } && !words.contains { $0.uppercased() == "LITERAL+" }
        for extra in supported where !words.contains(where: { $0.uppercased() == extra.uppercased() }) {
            if literalMinusOnly && extra == "LITERAL+" { continue }
            words.append(extra)
        }
        return (words, mechanisms)
    }

    /// `IMAP_IDLE_TIMEOUT` (spec/access.md §1.12, Courier's imapd): seconds between an IDLE
    /// client's rescans when no change event arrives; kept within 1 s … 30 min (RFC 9051
    /// §5.4). Nil when unset or not a number: the default one-second check stays.
    static func idlePollInterval(_ text: String?) -> TimeAmount? {
        guard let text, let seconds = Int(text.filter { $0 != " " && $0 != "\t" }) else { return nil }
        return .seconds(Int64(min(max(seconds, 1), 1800)))
    }

    public func run() async throws {
        let config = context.config.current
        var variables: [String: String] = listener.variables.environment
        if listener.kind == .imapd, let ssl = sslSettings {
            for name in ["IMAPDSTARTTLS", "IMAP_TLS_REQUIRED", "IMAP_CAPABILITY_TLS"] where variables[name] == nil {
                if let value = ssl.variables[name] { variables[name] = value }
            }
        }
        let implicitTLS = listener.kind == .imapdSSL
        let plain = Self.capabilities(from: variables["IMAP_CAPABILITY"])
        let tls = Self.capabilities(from: variables["IMAP_CAPABILITY_TLS"] ?? variables["IMAP_CAPABILITY"])
        let starttls = !implicitTLS && tlsContext != nil && (variables["IMAPDSTARTTLS"] ?? "YES").uppercased().hasPrefix("Y")
        // AUTH= words of IMAP_CAPABILITY the SASL layer runs (CRAM-*, SCRAM-*), plus PLAIN and
        // LOGIN; EXTERNAL is offered per connection, when a client certificate names a login.
        var mechanisms = Set(plain.mechanisms + tls.mechanisms).filter {
            guard let mechanism = SASLMechanism(name: $0) else { return false }
            return mechanism != .external
        }
        mechanisms.formUnion(["PLAIN", "LOGIN"])
        var mailboxOptions = MailboxOptions()
        mailboxOptions.trashFolderName = variables["IMAP_TRASHFOLDERNAME"] ?? "Trash"
        mailboxOptions.keywords = (variables["IMAP_KEYWORDS"] ?? "1") != "0"
        mailboxOptions.moveExpungedToTrash = (variables["IMAP_MOVE_EXPUNGE_TO_TRASH"] ?? "0") != "0"
        mailboxOptions.emptyTrash = EmptyTrashRule.parse(variables["IMAP_EMPTYTRASH"] ?? "Trash:7")
        // spec/access.md §2.2: XMAGICTRASH tells clients that EXPUNGE moves to Trash.
        mailboxOptions.sharedIndexFile = variables["IMAP_SHAREDINDEXFILE"] ?? config.root.etc("shared/index")
        mailboxOptions.sharableMaildirsFile = config.root.etc("maildirshared")
        mailboxOptions.mungeSharedNames = !(variables["IMAP_SHAREDMUNGENAMES"] ?? "").isEmpty
        // spec/access.md §2.2: ` ACL ACL2=UNION` unless IMAP_ACL=0 (RFC 4314 §2.1, §8).
        // RFC 8440 §2: LIST-MYRIGHTS goes with ACL.
        var extra = (variables["IMAP_ACL"] ?? "1") != "0" ? ["ACL", "ACL2=UNION", "LIST-MYRIGHTS"] : []
        if mailboxOptions.moveExpungedToTrash { extra.append("XMAGICTRASH") }
        var limits = IMAPLimits()
        limits.literalPlus = !plain.words.contains { $0.uppercased() == "LITERAL-" }
            || plain.words.contains { $0.uppercased() == "LITERAL+" }
        let configuration = IMAPSessionConfiguration(
            capabilities: plain.words + extra, capabilitiesTLS: tls.words + extra, authMechanisms: mechanisms.sorted().reversed(),
            tlsAvailable: starttls, tlsActive: implicitTLS,
            tlsRequired: variables["IMAP_TLS_REQUIRED"] == "1",
            greeting: "Courier-IMAP ready. Courier for Swift.", limits: limits)
        var environment = IMAPConnectionEnvironment(
            configuration: configuration, auth: auth, throttle: LoginThrottle(), defaultDomain: variables["DEFDOMAIN"],
            mailboxOptions: mailboxOptions, tlsContext: tlsContext,
            hostName: config.me, logger: context.logger, tlsExternalField: tlsExternalField)
        if let idle = Self.idlePollInterval(variables["IMAP_IDLE_TIMEOUT"]) { environment.idlePoll = idle }
        environment.plaintextAnywhere = variables["IMAP_PLAINTEXT_LOGIN"] == "1"
        environment.authService = AuthServiceName.forListener(port: listener.endpoints.first?.port ?? 0,
                                                              default: "imap") { variables[$0] }
        let connectionEnvironment = environment
        let limiter = ConnectionLimiter(maxTotal: Int(variables["MAXDAEMONS"] ?? "") ?? 40,
                                        maxPerAddress: Int(variables["MAXPERIP"] ?? "") ?? 20)
        let implicitContext = implicitTLS ? tlsContext : nil

        try await ListenerRunner(listener: listener, context: context).run { channel in
            let ip = channel.remoteAddress?.ipAddress ?? "unknown"
            guard limiter.admit(ip) == nil else {
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        IMAPRefusalHandler(text: "* BYE Too many connections, try again later\r\n"))
                }
            }
            channel.closeFuture.whenComplete { _ in limiter.release(ip) }
            return channel.eventLoop.makeCompletedFuture {
                if let implicitContext {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: implicitContext))
                }
                try channel.pipeline.syncOperations.addHandler(
                    IMAPConnectionHandler(environment: connectionEnvironment, clientIP: ip, implicitTLS: implicitTLS))
            }
        }
    }
}

/// Why an IMAP listener cannot start.
public enum IMAPServiceError: Error, CustomStringConvertible {
    case noCertificate(String)

    public var description: String {
        switch self {
        case .noCertificate(let service): "\(service) needs TLS_CERTFILE: no readable certificate"
        }
    }
}

/// Answers a connection over the limits with one BYE and closes it.
final class IMAPRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let text: String

    init(text: String) { self.text = text }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString(text)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// The IMAP plugin for `courier start`: imapd and imapd-ssl.
public struct IMAPListenerPlugin: ListenerPlugin {
    public let kinds: [ServiceKind] = [.imapd, .imapdSSL]

    public init() {}

    public func makeService(for listener: ListenerConfig, context: ServiceContext) throws -> any Service {
        let store = context.config
        let auth = try AuthConfiguration.liveChain(root: store.current.root, logger: context.logger,
                                                   generation: { store.generation })
        return try IMAPService(listener: listener, context: context, auth: auth)
    }
}
