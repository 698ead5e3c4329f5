import DNS
import Logging
import MailConfig
import MailQueue
import SMTPClient

/// The esmtp output module (spec/mta.md §5.3): recipients of one message are grouped by
/// domain; each group is routed (`esmtproutes`, else MX with A/AAAA fallback), and sent in one
/// SMTP transaction to the first relay that answers. 2xx → delivered, 4xx and connection
/// trouble → deferred, 5xx → failed (bounced with the remote reply).
public struct ESMTPTransport: Sendable {
    public let etc: String
    public let me: String
    public let resolver: DNSResolver
    public let logger: Logger
    /// Domains none of whose relays answered lately (`esmtpdelay`).
    public let unreachable: BackoffTable
    /// Relays whose STARTTLS broke lately: opportunistic TLS skips them (spec/mta.md §5.3.4).
    public let brokenTLS = BackoffTable()
    /// Our own host names (lower case: `me` and any given), for MX loop checks; `isLocalHost`
    /// adds the site's `locals`/`hosteddomains` test.
    public let localNames: Set<String>
    /// Courier's fuller test of a host name being ours (`locals` with wildcards, `hosteddomains`).
    public let isLocalHost: (@Sendable (String) -> Bool)?
    /// `esmtppercentrelay`'s output rewriting; nil when no domain is listed.
    public let percentHack: PercentHackOutput?
    /// The control files, re-read at most once a second.
    let configuration: ESMTPConfigurationCache
    /// `MAXDELS` / `MAXHOST` (`etc/module.esmtp`), read once.
    public let limits: ESMTPModuleLimits
    /// Deliveries running, per domain and in all (`MAXHOST`, `MAXDELS`).
    let slots: DeliverySlots
    /// Sessions kept open between messages (`esmtptimeoutkeepalive`).
    public let sessions: SMTPSessionPool

    public init(etc: String, me: String, localNames: Set<String> = [], isLocalHost: (@Sendable (String) -> Bool)? = nil,
                resolver: DNSResolver, logger: Logger,
                unreachable: BackoffTable = BackoffTable(), percentHack: PercentHackOutput? = nil) {
        self.isLocalHost = isLocalHost
        self.percentHack = percentHack
        self.etc = etc
        self.me = me
        self.localNames = Set((localNames + [me]).map { $0.lowercased() })
        self.resolver = resolver
        self.logger = logger
        self.unreachable = unreachable
        self.configuration = ESMTPConfigurationCache(etc: etc, me: me)
        let limits = ESMTPModuleLimits.load(etc: etc)
        self.limits = limits
        self.slots = DeliverySlots(maxTotal: limits.maxDeliveries, maxPerHost: limits.maxPerHost)
        self.sessions = SMTPSessionPool(maxPerKey: limits.maxPerHost, maxTotal: limits.maxDeliveries)
    }

    /// Shutdown: idle kept-open sessions say QUIT (waits at most a couple of seconds).
    public func closeSessions() async {
        await sessions.closeIdle()
    }

    /// Delivers remote recipients of one message; outcomes in the order of `requests`.
    public func deliver(_ requests: [DeliveryRequest]) async -> [DeliveryOutcome] {
        guard let first = requests.first else { return [] }
        let config = configuration.current
        // spec/mta.md §4.10 (ESMTP_BLOCKBACKSCATTER): a report on mail from a listed source
        // (default: unauthenticated SMTP) is not sent out; the sender may well be forged.
        if let source = first.header.envelope.reportOn?.courierName, config.blockBackscatter.contains(source) {
            logger.info("id=\(first.header.id): delivered: backscatter bounce dropped")
            return requests.map { _ in .delivered("Backscatter bounce dropped.") }
        }
        var groups: [(domain: String, positions: [Int])] = []
        for (position, request) in requests.enumerated() {
            // `backuprelay` after `warntime` (spec/mta.md §3.16): that host instead of the domain.
            let domain = request.backupRelay ?? Self.domain(of: request.recipient.address)
            if let index = groups.firstIndex(where: { $0.domain == domain }) {
                groups[index].positions.append(position)
            } else {
                groups.append((domain, [position]))
            }
        }
        var outcomes = [DeliveryOutcome](repeating: .deferred("not attempted"), count: requests.count)
        // spec/mta.md §3.22: the reverse percent hack on the way out.
        var header = first.header
        var body = first.body
        // A double bounce's `#@[]` (spec/mta.md §4.8) is our marker, not an address: it goes
        // out as the null sender.
        if header.envelope.sender == "#@[]" { header.envelope.sender = "" }
        if let percentHack {
            header.envelope.sender = percentHack.sender(header.envelope.sender)
            body = percentHack.message(body)
        }
        let message = (header, body)
        await withTaskGroup(of: [(Int, DeliveryOutcome)].self) { group in
            for (domain, positions) in groups {
                let recipients = positions.map { requests[$0].header.envelope.recipients[requests[$0].recipientIndex] }
                group.addTask {
                    let results = await deliver(domain: domain, recipients: recipients, header: message.0,
                                                body: message.1, config: config)
                    return Array(zip(positions, results))
                }
            }
            for await pairs in group {
                for (position, outcome) in pairs { outcomes[position] = outcome }
            }
        }
        return outcomes
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...]).lowercased()
    }

    func deliver(domain: String, recipients: [QueueRecipient], header: QueuedMessageHeader, body: [UInt8],
                 config: ESMTPConfiguration) async -> [DeliveryOutcome] {
        let all = { (outcome: DeliveryOutcome) in [DeliveryOutcome](repeating: outcome, count: recipients.count) }
        if let text = unreachable.deferral(for: domain) { return all(.deferred(text)) }
        // spec/mta.md §4.6: at most MAXHOST deliveries to one domain, MAXDELS in all.
        guard await slots.acquire(domain) else { return all(.deferred("Delivery was interrupted (shutdown).")) }
        defer { slots.release(domain) }
        if let text = unreachable.deferral(for: domain) { return all(.deferred(text)) }
        let route = ESMTPRoutes.lookup(domain, in: config.routes)
        let port = route?.port ?? 25
        var relays: [MXRelay]
        switch route?.relay ?? .dns {
        case let .address(ip):
            relays = [MXRelay(hostname: ip, priority: -1, address: ip)]
        case let .host(name):
            switch await lookup(name, preferIPv6: config.preferIPv6) {
            case let .success(list): relays = list
            case let .failure(outcome): return all(outcome)
            }
        case .dns:
            guard !domain.isEmpty else { return all(.failed("No such domain.")) }
            switch await lookup(domain, preferIPv6: config.preferIPv6) {
            case let .success(list): relays = list
            case let .failure(outcome): return all(outcome)
            }
            // RFC 1035 violation: an MX target that is an IP literal (spec §5.3.3).
            if relays.contains(where: { $0.targetIsAddressLiteral && $0.priority >= 0 }) {
                return all(.failed("This domain's DNS violates RFC 1035."))
            }
            // Spec §5.3.3: we are one of the MX hosts. Most preferred → a loop; otherwise we are
            // a backup MX and only hosts preferred to us are tried.
            let ours = relays.filter { isSelf($0) }
            if let ourPreference = ours.map(\.priority).min() {
                guard let best = relays.map(\.priority).min(), ourPreference > best else {
                    return all(.failed("configuration error: mail loops back to myself (MX problem)."))
                }
                relays = relays.filter { $0.priority < ourPreference }
            }
        }
        if route?.ipv4Only == true { relays = relays.filter { !$0.address.contains(":") } }
        if route?.ipv6Only == true { relays = relays.filter { $0.address.contains(":") } }
        let tls: ClientSettings.TLSPolicy
        switch route?.security {
        case .startTLS?, .required?: tls = .required
        case .none?: tls = .none
        case .smtps?: tls = .implicit
        case nil: tls = config.useStartTLS ? .opportunistic : .none
        }
        // spec/mta.md §5.3.4: Courier's SECURITY route needs its private CA list; without it
        // the mail fails rather than going with a weaker check.
        if route?.security == .startTLS && config.tlsVerification.trustSecurityCertificates == nil {
            return all(.failed("500 Unable to set minimum security level."))
        }
        let certificateCheck = tls == .none ? nil
            : config.tlsVerification.check(securityRoute: route?.security == .startTLS)
        let path = RelayPath(domain: domain, relays: relays, port: port, tls: tls, certificateCheck: certificateCheck)
        // spec/mta.md §4.6: at most MAXRCPT recipients per transaction; the next group follows
        // on the same (kept) session.
        var outcomes: [DeliveryOutcome] = []
        outcomes.reserveCapacity(recipients.count)
        var next = 0
        while next < recipients.count {
            let group = Array(recipients[next..<min(next + limits.maxRecipients, recipients.count)])
            next += group.count
            let transaction = ClientTransaction(
                sender: header.envelope.sender,
                recipients: group.map { ClientTransaction.Recipient(
                    address: $0.address, notify: Self.notifyKeywords($0.notify), originalRecipient: $0.originalRecipient) },
                body: body, eightBit: header.envelope.eightBit, smtpUTF8: header.envelope.smtputf8,
                dsnReturn: header.envelope.dsnReturn.map { $0 == .full ? .full : .headers },
                envelopeID: header.envelope.envelopeID, verp: header.envelope.verp)
            switch await send(transaction, along: path, id: header.id, config: config) {
            case let .outcomes(list):
                outcomes += list
            case let .unreachable(text):
                // No relay answered: the rest of the domain's recipients wait too.
                outcomes += [DeliveryOutcome](repeating: .deferred(text), count: recipients.count - outcomes.count)
                return outcomes
            }
        }
        return outcomes
    }

    /// Where a domain's mail goes: its relays in order and how to talk to them.
    struct RelayPath {
        var domain: String
        var relays: [MXRelay]
        var port: Int
        var tls: ClientSettings.TLSPolicy
        var certificateCheck: TLSCertificateCheck?
    }

    enum GroupResult { case outcomes([DeliveryOutcome]), unreachable(String) }

    /// How long a relay's broken STARTTLS is remembered (Courier: 2–4 hours).
    static let brokenTLSSeconds: Int64 = 2 * 3600

    /// One transaction to the first relay that answers (spec §5.3.3): per recipient outcomes,
    /// or `.unreachable` (remembered for `esmtpdelay`) when none could be connected to.
    func send(_ transaction: ClientTransaction, along path: RelayPath, id: QueueID,
              config: ESMTPConfiguration) async -> GroupResult {
        let count = transaction.recipients.count
        var lastTrouble = "No relay for \(path.domain) could be reached."
        for relay in path.relays {
            let credentials = ESMTPAuthClientEntry.lookup(host: relay.hostname, port: path.port, in: config.authClient)
            let source = relay.address.contains(":") ? config.sourceIPv6 : config.sourceIPv4
            let peer = "\(relay.hostname) [\(relay.address)]"
            // spec/mta.md §5.3.4: a relay whose STARTTLS broke lately gets the mail in the clear
            // when TLS was only opportunistic (a required TLS never falls back).
            // With a certificate check (ESMTP_TLS_VERIFY_DOMAIN) a failed handshake never means
            // "send in the clear": the mail waits.
            var tls = path.tls
            let mayFallBack = tls == .opportunistic && path.certificateCheck == nil
            let brokenKey = "\(relay.address):\(path.port)"
            if mayFallBack && brokenTLS.deferral(for: brokenKey) != nil { tls = .none }
            var result: ConnectionResult
            while true {
                let settings = ClientSettings(heloName: config.heloName, tls: tls,
                                              credentials: credentials.map { (user: $0.user, password: $0.password) })
                let key = SMTPSessionPool.Key(
                    host: relay.hostname, address: relay.address, port: path.port, source: source,
                    heloName: config.heloFromReverseDNS ? "*" : config.heloName, tls: tls, user: credentials?.user, password: credentials?.password,
                    certificateCheck: tls == .none ? nil : path.certificateCheck)
                result = await send(transaction, key: key, settings: settings, config: config)
                guard case let .tlsFailed(text) = result, mayFallBack, tls == .opportunistic else { break }
                logger.info("id=\(id): \(peer): broken STARTTLS (\(text)); no STARTTLS with it for 2 hours")
                brokenTLS.remember(brokenKey, text: text, seconds: Self.brokenTLSSeconds)
                tls = .none
            }
            // Remote-MTA of a bounce: the MX name, or `[ip]` for an address route.
            let remoteMTA = relay.hostname == relay.address ? "[\(relay.address)]" : relay.hostname
            switch result {
            case let .unreachable(text), let .tlsFailed(text):
                lastTrouble = text
                logger.info("id=\(id): \(peer): \(text)")
                continue
            case let .refused(failure):
                let text = "\(peer): \(failure.command): \(failure.reply.text)"
                let outcome: DeliveryOutcome = failure.permanent
                    ? .rejected(failure.reply.text, remoteMTA: remoteMTA, command: failure.command) : .deferred(text)
                return .outcomes([DeliveryOutcome](repeating: outcome, count: count))
            case let .transaction(results):
                return .outcomes(results.map { result in
                    switch result.status {
                    case .delivered: .relayed("\(peer): \(result.reply.text)", reply: result.reply.text,
                                              remoteMTA: remoteMTA, dsnPassedOn: result.dsnPassedOn)
                    case .deferred: .deferred("\(peer): \(result.command): \(result.reply.text)")
                    case .failed: .rejected(result.reply.text, remoteMTA: remoteMTA, command: result.command)
                    }
                })
            }
        }
        if !path.relays.isEmpty {
            unreachable.remember(path.domain, text: lastTrouble, seconds: config.esmtpDelay)
        }
        return .unreachable(lastTrouble)
    }

    /// Runs `transaction` on a session kept open to the same server when there is one
    /// (spec/mta.md §5.3.2), else on a new connection that is kept open afterwards for
    /// `esmtptimeoutkeepalive` seconds. A kept session that died meanwhile (no 250 to RSET)
    /// is dropped and the next one, finally a new connection, is tried.
    func send(_ transaction: ClientTransaction, key: SMTPSessionPool.Key, settings: ClientSettings,
              config: ESMTPConfiguration) async -> ConnectionResult {
        if config.keepAlive > 0 {
            while let kept = sessions.checkOut(key) {
                let result = await kept.run(transaction)
                if case .unreachable = result { continue }
                return result
            }
        }
        let reuse = config.keepAlive > 0
            ? SMTPClientConnection.Reuse(pool: sessions, key: key, keepAlive: config.keepAlive,
                                         ping: config.keepAlivePing) : nil
        let resolver = self.resolver
        var heloLookup: (@Sendable (String) async -> String)?
        if config.heloFromReverseDNS {
            heloLookup = { @Sendable address in await ReverseHeloName.lookup(address, resolver: resolver) }
        }
        return await SMTPClientConnection.run(host: key.host, address: key.address, port: key.port, source: key.source,
                                              settings: settings, transaction: transaction, timeouts: config.timeouts,
                                              certificateCheck: key.certificateCheck, reuse: reuse,
                                              heloLookup: heloLookup)
    }

    /// One of our names, or a loopback address (spec/mta.md §5.3.3; Courier's config_islocal).
    func isSelf(_ relay: MXRelay) -> Bool {
        if localNames.contains(relay.hostname.lowercased()) { return true }
        if !relay.targetIsAddressLiteral, let isLocalHost, isLocalHost(relay.hostname) { return true }
        return Self.isLoopback(relay.address)
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.lowercased().hasPrefix("::ffff:127.")
    }

    enum Lookup { case success([MXRelay]), failure(DeliveryOutcome) }

    func lookup(_ name: String, preferIPv6: Bool = true) async -> Lookup {
        switch await resolver.mailExchangers(for: name, preferIPv6: preferIPv6) {
        case let .relays(list): list.isEmpty ? .failure(.failed("No such domain.")) : .success(list)
        case .softError: .failure(.deferred("DNS lookup failed."))
        case .hardError: .failure(.failed("No such domain."))
        case .noMail: .failure(.failed("Domain does not receive mail."))
        case .badDNS: .failure(.failed("This domain's DNS violates RFC 1035."))
        }
    }

    static func notifyKeywords(_ notify: DSNNotify) -> [String] {
        if notify.contains(.never) { return ["NEVER"] }
        var words: [String] = []
        if notify.contains(.success) { words.append("SUCCESS") }
        if notify.contains(.failure) { words.append("FAILURE") }
        if notify.contains(.delay) { words.append("DELAY") }
        return words
    }
}
