import CourierDaemon
import DNS
import Delivery
import ListenerSupport
import Logging
import MailAuth
import MailConfig
import MailQueue
import NIOCore
import NIOPosix
import NIOSSL
import SMTP
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// One SMTP listener (`esmtpd`, `esmtpd-msa` or `esmtpd-ssl`) as a ServiceLifecycle service:
/// binds every endpoint, announces `SERVICE listening on ADDRESS:PORT`, serves until graceful
/// shutdown. Implicit TLS for esmtpd-ssl, STARTTLS elsewhere when a certificate is configured.
public struct SMTPService: Service {
    let listener: ListenerConfig
    let context: ServiceContext
    let queue: any MessageQueue
    let lookup: any RecipientLookup
    let tlsContext: NIOSSLContext?
    let authenticator: SMTPAuthenticator?

    init(listener: ListenerConfig, context: ServiceContext, queue: any MessageQueue,
         lookup: any RecipientLookup, authenticator: SMTPAuthenticator?) throws {
        self.listener = listener
        self.context = context
        self.queue = queue
        self.lookup = lookup
        self.authenticator = authenticator
        tlsContext = try ServerTLS.makeContext(certificateFile: listener.certificateFile,
                                               privateKeyFile: listener.privateKeyFile,
                                               verifyPeer: ServerTLS.PeerVerification(listener.variables["TLS_VERIFYPEER"]),
                                               trustCertificates: listener.variables["TLS_TRUSTCERTS"])
        if listener.kind == .esmtpdSSL && tlsContext == nil {
            throw SMTPServiceError.noCertificate(listener.kind.rawValue)
        }
    }

    public func run() async throws {
        let config = context.config.current
        let variables = listener.variables
        var limits = SMTPLimits()
        let sizeText = variables["SIZELIMIT"]
        limits.messageSize = sizeText.flatMap { Int($0) } ?? config.sizeLimit
        var configuration = SMTPSessionConfiguration(
            hostname: config.me, tlsAvailable: tlsContext != nil, tlsActive: listener.kind == .esmtpdSSL,
            authMechanisms: [], authMechanismsTLS: [],  // per connection, below
            tlsRequired: variables["ESMTP_TLS_REQUIRED"] == "1", authRequired: variables["AUTH_REQUIRED"] == "1",
            limits: limits)
        // RFC 3030 CHUNKING on every SMTP listener (Docs/smtp-server.md "CHUNKING").
        configuration.chunking = true
        let limiter = ConnectionLimiter(maxTotal: Int(variables["MAXDAEMONS"] ?? "") ?? 40,
                                        maxPerAddress: Int(variables["MAXPERIP"] ?? "") ?? 5)
        var template = SMTPConnectionEnvironment(
            configuration: configuration, queue: queue, lookup: lookup,
            policy: RelayPolicy(isSubmission: listener.kind == .esmtpdMSA), access: ClientAccess(),
            tarpit: (variables["TARPIT"] ?? "1") != "0", tlsContext: tlsContext, logger: context.logger,
            authenticator: authenticator, defaultDomain: variables["DEFDOMAIN"] ?? "",
            relayNeedsAuth: listener.kind == .esmtpdMSA)
        template.tlsExternalField = variables["TLS_EXTERNAL"].flatMap { $0.isEmpty ? nil : $0 }
        let base = template
        let authPlain = authenticator == nil ? nil : variables["ESMTPAUTH"]
        let authTLS = authenticator == nil ? nil : variables["ESMTPAUTH_TLS"]
        // Ours: PLAIN and LOGIN from ESMTPAUTH offered without TLS to any address (else loopback only).
        let plaintextAnywhere = variables["ESMTP_PLAINTEXT_AUTH"] == "1"
        let store = context.config
        // DNS for BOFHCHECKDNS, BOFHCHECKHELO, freemail and BLACKLISTS: DNS_SERVER (process
        // environment or the service's file), else /etc/resolv.conf.
        var dnsEnvironment = ConfigRoot.processEnvironment()
        if let servers = variables["DNS_SERVER"] { dnsEnvironment[ResolverConfiguration.environmentVariable] = servers }
        let resolver = DNSResolver(configuration: ResolverConfiguration.system(environment: dnsEnvironment))
        let blockRules = DNSListRule.parse(variables["BLACKLISTS"] ?? "")
        /// A variable as courieresmtpd sees it: smtpaccess, then the service's file, then `bofh opt`.
        @Sendable func setting(_ name: String, _ access: ClientAccess, _ bofh: BofhSettings) -> String? {
            access.variables[name] ?? variables[name] ?? bofh.options[name]
        }
        let implicitTLS = listener.kind == .esmtpdSSL ? tlsContext : nil

        try await ListenerRunner(listener: listener, context: context).run { channel in
            let ip = channel.remoteAddress?.ipAddress ?? "unknown"
            var environment = base
            // smtpaccess and bofh as of now: a SIGHUP after editing them applies to the
            // next connection, as Courier reads them per connection or message.
            let site = store.current
            let bofh = site.bofh
            environment.access = ClientAccess.lookup(ip, in: site.smtpAccess)
            environment.configuration.limits.recipients = bofh.maxRecipients
            environment.configuration.limits.recipientsHard = bofh.maxRecipientsHard
            let checkDNS = (setting("BOFHCHECKDNS", environment.access, bofh).flatMap { Int($0) } ?? 0) != 0
            let checkHelo = setting("BOFHCHECKHELO", environment.access, bofh).flatMap { Int($0) } ?? 0
            environment.senderPolicy = SenderPolicy(bofh: bofh, checkDNS: checkDNS, checkHelo: checkHelo,
                                                    resolver: resolver)
            var spf = SPFPolicy()
            spf.helo = SPFPolicy.keywords(setting("BOFHSPFHELO", environment.access, bofh))
            spf.mailFrom = SPFPolicy.keywords(setting("BOFHSPFMAILFROM", environment.access, bofh))
            spf.from = SPFPolicy.keywords(setting("BOFHSPFFROM", environment.access, bofh))
            spf.hardError = SPFPolicy.keywords(setting("BOFHSPFHARDERROR", environment.access, bofh)) ?? ["fail", "softfail"]
            spf.trustRelayClients = setting("BOFHSPFTRUSTME", environment.access, bofh) == "1"
            spf.quiet = setting("BOFHSPFNOVERBOSE", environment.access, bofh) == "1"
            spf.receiver = site.me
            environment.senderPolicy.spf = spf
            // spec/mta.md §2.13: a Received-SPF from outside is renamed when we check SPF
            // ourselves; Authentication-Results when ALLOW_EXCLUSIVE guards our own.
            if spf.isActive || spf.from != nil {
                environment.renamedFields.append("received-spf")
            }
            if (setting("ALLOW_EXCLUSIVE", environment.access, bofh).flatMap { Int($0) } ?? 0) > 0 {
                environment.renamedFields.append("authentication-results")
            }
            let sources = BackscatterSuppression.sources(setting("BOFHSUPPRESSBACKSCATTER", environment.access, bofh))
            if !sources.isDisjoint(with: ["smtp", "authsmtp"]) {
                environment.backscatter = BackscatterSuppression(sources: sources, store: SuppressionStore.shared(for: site.root),
                                                                 generation: { store.generation })
            }
            environment.headerLimit = setting("BOFHHEADERLIMIT", environment.access, bofh).flatMap { Int($0) } ?? 100_000
            environment.configuration.checksSender = environment.senderPolicy.isActive
            if !blockRules.isEmpty { environment.blockLists = DNSBlockList(rules: blockRules, resolver: resolver) }
            let offered = SMTPAuthMechanisms.offered(plain: authPlain, tls: authTLS, clientIP: ip,
                                                     plaintextAnywhere: plaintextAnywhere)
            environment.configuration.authMechanisms = offered.plain
            environment.configuration.authMechanismsTLS = offered.tls
            if environment.access.denied {
                return channel.close()
            }
            if let refusal = limiter.admit(ip) {
                let reply = refusal == .total ? Replies.tooManyConnections : Replies.tooManyConnectionsFromYou
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RefusalHandler(reply: reply))
                }
            }
            channel.closeFuture.whenComplete { _ in limiter.release(ip) }
            SMTPMetrics.sessionStarted()
            return channel.eventLoop.makeCompletedFuture {
                // A client may pipeline its last commands and shut its sending side down
                // before reading the replies (Exim does, after `BDAT n LAST` or `.` and QUIT):
                // the handler finishes what it read, answers, then closes (`inputClosed`).
                try channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                if let implicitTLS {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: implicitTLS))
                }
                try channel.pipeline.syncOperations.addHandler(SMTPConnectionHandler(environment: environment, clientIP: ip))
            }
        }
    }
}

/// Why an SMTP listener cannot start.
public enum SMTPServiceError: Error, CustomStringConvertible {
    case noCertificate(String)

    public var description: String {
        switch self {
        case .noCertificate(let service): "\(service) needs TLS_CERTFILE: no readable certificate"
        }
    }
}

/// Answers a connection over the limits with one 421 reply and closes it (RFC 5321 §3.8).
final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: SMTPReply

    init(reply: SMTPReply) {
        self.reply = reply
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 80)
        buffer.writeBytes(reply.encoded())
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// The SMTP plugin for `courier start`: esmtpd, esmtpd-msa and esmtpd-ssl.
public struct SMTPListenerPlugin: ListenerPlugin {
    public let kinds: [ServiceKind] = [.esmtpd, .esmtpdMSA, .esmtpdSSL]

    /// The daemon's durable queue, shared with the queue runner.
    let queue: any MessageQueue
    /// One throttle for all SMTP listeners: guesses on port 25 slow down 587 too.
    let throttle: LoginThrottle

    public init(queue: any MessageQueue, throttle: LoginThrottle = LoginThrottle()) {
        self.queue = queue
        self.throttle = throttle
    }

    public func makeService(for listener: ListenerConfig, context: ServiceContext) throws -> any Service {
        // SMTP AUTH checks logins through authdaemonrc's module chain (userdb, PostgreSQL),
        // rebuilt after SIGHUP; RCPT asks the same chain for accounts userdb does not have.
        let store = context.config
        let chain = try AuthConfiguration.liveChain(root: store.current.root, logger: context.logger,
                                                    generation: { store.generation })
        let lookup = LiveRecipientLookup(store: store, chain: chain)
        let authenticator = SMTPAuthenticator(chain: chain, throttle: throttle)
        return try SMTPService(listener: listener, context: context, queue: queue, lookup: lookup,
                               authenticator: authenticator)
    }
}
