/// The server side of one SMTP session as a value (STYLE.md "State machines are values that
/// return actions"). The NIO handler feeds it command lines and the results of the work it
/// asked for (recipient checks, opening and committing a queue submission) and carries out
/// the `Action` it returns. It never does I/O.
///
/// Commands and replies follow Courier's courieresmtpd (spec/mta.md §2.3–§2.8).
public struct SMTPSession: Sendable {
    /// What the handler must do next.
    public enum Action: Sendable, Equatable {
        /// Send this reply and read the next command.
        case send(SMTPReply)
        /// Send this reply and close the connection.
        case sendAndClose(SMTPReply)
        /// Send this reply, then start the TLS handshake (RFC 3207 §4), then call `tlsStarted()`.
        case sendAndStartTLS(SMTPReply)
        /// Check the sender (`bofh`, DNS: spec/mta.md §2.12 MAIL stage), then call
        /// `senderChecked`. Only asked when `configuration.checksSender`.
        case checkSender(SMTPReversePath, MailParameters)
        /// Decide about this recipient (relay policy, lookup), then call `recipientChecked`.
        case checkRecipient(SMTPMailbox, RcptParameters)
        /// Open a queue submission for this envelope, then call `submissionOpened()` or
        /// `submissionFailed(_:)`.
        case openSubmission(SMTPTransaction)
        /// The data ended well: make the message durable, then call `committed(id:)` or
        /// `commitFailed(_:)`. Only then is 250 sent (DESIGN.md "Durability").
        case commitSubmission
        /// Forget the submission, then send this reply.
        case abortSubmission(SMTPReply)
        /// Run the SASL exchange for this mechanism (the AUTH hook; see `authenticated(as:)`).
        case authenticate(mechanism: String, initialResponse: String?)
    }

    private enum Phase: Sendable, Equatable {
        /// Before HELO/EHLO.
        case connected
        /// HELO/EHLO done, no transaction.
        case ready
        /// MAIL accepted; collecting recipients.
        case mail
        /// Waiting for the handler's answer to `checkSender`.
        case checkingSender
        /// Waiting for the handler's answer to `checkRecipient`.
        case checkingRecipient
        /// Waiting for the queue to open a submission.
        case openingData
        /// Receiving message data.
        case data
        /// Waiting for `commit()`.
        case committing
        /// Waiting for STARTTLS' handshake or the SASL exchange.
        case busy
        case closed
    }

    public let configuration: SMTPSessionConfiguration
    private var phase: Phase = .connected
    private var transaction: SMTPTransaction?
    /// The first HELO/EHLO name (spec/mta.md §2.4: later ones do not change it).
    public private(set) var heloName: String?
    /// EHLO (not HELO) was used: `Received: … with ESMTP`.
    public private(set) var isExtended = false
    public private(set) var tlsActive: Bool
    /// The authenticated user, set by the AUTH hook.
    public private(set) var authenticatedUser: String?
    /// The SASL mechanism the user logged in with (for `Received:`, spec/mta.md §2.9).
    public private(set) var authenticatedMechanism: String?
    /// STARTTLS is refused after MAIL, AUTH, RSET, VRFY or EXPN (spec/mta.md §2.5).
    private var startTLSAllowed = true
    /// The TLS client sent a certificate that names a login (`TLS_EXTERNAL`): AUTH EXTERNAL
    /// is offered and accepted (spec/mta.md §2.9).
    public private(set) var externalAvailable = false

    public init(configuration: SMTPSessionConfiguration) {
        self.configuration = configuration
        tlsActive = configuration.tlsActive
    }

    /// The envelope of the message being received, if any.
    public var currentTransaction: SMTPTransaction? { transaction }

    /// True while the handler must pass bytes to a `DataDecoder` instead of lines.
    public var isReceivingData: Bool { phase == .data }

    /// The TLS handshake gave a client certificate with a login name: offer AUTH EXTERNAL.
    public mutating func clientCertificateVerified() {
        externalAvailable = true
    }

    /// The banner (spec/mta.md §2.3).
    public func greeting() -> SMTPReply { Replies.greeting(configuration.hostname) }

    /// RFC 2034 §3: once the client said EHLO (and so saw ENHANCEDSTATUSCODES), replies carry
    /// their RFC 3463 code; the greeting, HELO/EHLO and 354 replies have none.
    public var writesEnhancedCodes: Bool { isExtended }

    /// The extensions EHLO lists, in Courier's order (spec/mta.md §2.4).
    public var ehloExtensions: [String] {
        var list: [String] = []
        var mechanisms = tlsActive && !configuration.authMechanismsTLS.isEmpty ? configuration.authMechanismsTLS : configuration.authMechanisms
        if externalAvailable && tlsActive { mechanisms.append("EXTERNAL") }
        if !mechanisms.isEmpty && authenticatedUser == nil { list.append("AUTH " + mechanisms.joined(separator: " ")) }
        if configuration.tlsAvailable && !tlsActive && startTLSAllowed { list.append("STARTTLS") }
        list += ["XVERP=Courier", "XEXDATA", "XSECURITY=NONE,STARTTLS", "PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE", "DSN",
                 "ENHANCEDSTATUSCODES"]
        return list
    }

    // MARK: input

    /// A command line arrived (line end removed).
    public mutating func receive(line: ArraySlice<UInt8>) -> Action {
        switch SMTPCommandParser.parse(line, limits: configuration.limits) {
        case .success(let command): return receive(command)
        case .failure(let error): return .send(error.reply)
        }
    }

    /// A command line longer than the limit arrived (its bytes were dropped).
    public mutating func receiveOverlongLine() -> Action {
        .send(Replies.lineTooLong)
    }

    /// A parsed command arrived.
    public mutating func receive(_ command: SMTPCommand) -> Action {
        guard phase != .closed else { return .sendAndClose(Replies.commandError) }
        let verb = command.verb
        if configuration.tlsRequired && !tlsActive && !verb.allowedBeforeTLS {
            return .send(Replies.tlsRequired)
        }
        if configuration.authRequired && authenticatedUser == nil && !verb.allowedBeforeAuth {
            return .send(Replies.authRequiredFirst)
        }
        switch command {
        case .quit:
            phase = .closed
            return .sendAndClose(Replies.bye)
        case .ehlo(let name), .helo(let name):
            return hello(name, extended: verb == .ehlo)
        case .noop:
            return .send(Replies.ok)
        case .rset:
            startTLSAllowed = false
            reset()
            return .send(Replies.ok)
        case .help:
            return .send(Replies.help)
        case .vrfy:
            // We never confirm or deny an address (RFC 5321 §3.5.3: 252).
            startTLSAllowed = false
            return .send(Replies.vrfyDisabled)
        case .expn:
            startTLSAllowed = false
            return .send(Replies.expnDisabled)
        case .startTLS:
            guard configuration.tlsAvailable, !tlsActive, startTLSAllowed, phase == .connected || phase == .ready else {
                return .send(Replies.tlsNotAvailable)
            }
            phase = .busy
            return .sendAndStartTLS(Replies.startTLS)
        case .auth(let mechanism, let initial):
            var mechanisms = tlsActive && !configuration.authMechanismsTLS.isEmpty ? configuration.authMechanismsTLS : configuration.authMechanisms
            if externalAvailable && tlsActive { mechanisms.append("EXTERNAL") }
            // spec/mta.md §2.9: we enforce the advertised list, unlike Courier.
            guard authenticatedUser == nil, phase == .ready, mechanisms.contains(mechanism) else {
                return .send(Replies.authRejected)
            }
            startTLSAllowed = false
            phase = .busy
            return .authenticate(mechanism: mechanism, initialResponse: initial)
        case .mail(let sender, let parameters):
            return mail(sender, parameters)
        case .rcpt(let mailbox, let parameters):
            return rcpt(mailbox, parameters)
        case .data:
            guard phase == .mail, let transaction, !transaction.recipients.isEmpty else {
                return .send(Replies.commandError)
            }
            phase = .openingData
            return .openSubmission(transaction)
        case .bdat:
            // CHUNKING is not offered (as Courier, spec/mta.md §2.4).
            return .send(Replies.commandError)
        }
    }

    private mutating func hello(_ name: String, extended: Bool) -> Action {
        guard phase == .connected || phase == .ready || phase == .mail else { return .send(Replies.commandError) }
        if heloName == nil {
            // spec/mta.md §2.4: control characters and whitespace become `_`, at most 255.
            var cleaned = ""
            for scalar in name.unicodeScalars.prefix(configuration.limits.heloName) {
                cleaned.unicodeScalars.append(scalar.value <= 32 || scalar.value == 127 ? "_" : scalar)
            }
            heloName = cleaned
        }
        isExtended = extended
        reset()
        phase = .ready
        return .send(extended ? Replies.ehlo(configuration.hostname, extensions: ehloExtensions) : Replies.helo(configuration.hostname))
    }

    private mutating func mail(_ sender: SMTPReversePath, _ parameters: MailParameters) -> Action {
        switch phase {
        case .connected: return .send(Replies.heloFirst)
        case .ready: break
        default: return .send(Replies.commandError)
        }
        if case .mailbox(let mailbox) = sender {
            // spec/mta.md §2.12 MAIL step 5: `@` and a dotted domain (or a literal).
            guard Self.isRoutableDomain(mailbox.domain), mailbox.sourceRoute.isEmpty else { return .send(Replies.senderSyntax) }
            if !mailbox.isASCII && !parameters.smtputf8 { return .send(Replies.needsSMTPUTF8) }
        }
        let limit = configuration.limits.messageSize
        if let size = parameters.size, limit > 0, size > limit { return .send(Replies.sizeTooBig) }
        startTLSAllowed = false
        if configuration.checksSender {
            phase = .checkingSender
            return .checkSender(sender, parameters)
        }
        transaction = SMTPTransaction(sender: sender, parameters: parameters)
        phase = .mail
        return .send(Replies.senderOk)
    }

    /// The handler checked the sender: nil accepts it, a reply refuses it (no transaction).
    public mutating func senderChecked(_ sender: SMTPReversePath, _ parameters: MailParameters, refusal: SMTPReply?) -> Action {
        guard phase == .checkingSender else { return .send(Replies.commandError) }
        if let refusal {
            phase = .ready
            return .send(refusal)
        }
        transaction = SMTPTransaction(sender: sender, parameters: parameters)
        phase = .mail
        return .send(Replies.senderOk)
    }

    private mutating func rcpt(_ mailbox: SMTPMailbox, _ parameters: RcptParameters) -> Action {
        guard phase == .mail, let transaction else { return .send(Replies.commandError) }
        guard transaction.recipients.count < configuration.limits.recipients else {
            return .send(configuration.limits.recipientsHard ? Replies.tooManyRecipientsHard : Replies.tooManyRecipients)
        }
        guard Self.isRoutableDomain(mailbox.domain) else { return .send(Replies.addressSyntax) }
        if !mailbox.isASCII && !transaction.parameters.smtputf8 { return .send(Replies.needsSMTPUTF8) }
        phase = .checkingRecipient
        return .checkRecipient(mailbox, parameters)
    }

    /// spec/mta.md §2.12 RCPT step 3: a domain with at least one dot, or an address literal.
    static func isRoutableDomain(_ domain: String) -> Bool {
        domain.hasPrefix("[") || domain.utf8.contains(UInt8(ascii: "."))
    }

    // MARK: results of the handler's work

    /// The handler decided about the recipient: nil accepts it, a reply refuses it.
    public mutating func recipientChecked(_ mailbox: SMTPMailbox, _ parameters: RcptParameters, refusal: SMTPReply?) -> Action {
        guard phase == .checkingRecipient else { return .send(Replies.commandError) }
        phase = .mail
        if let refusal { return .send(refusal) }
        transaction?.recipients.append((mailbox, parameters))
        return .send(Replies.recipientOk)
    }

    /// The queue opened a submission: ask for the data.
    public mutating func submissionOpened() -> Action {
        guard phase == .openingData else { return .send(Replies.commandError) }
        phase = .data
        return .send(Replies.startData)
    }

    /// The queue could not open a submission.
    public mutating func submissionFailed(_ reply: SMTPReply) -> Action {
        reset()
        phase = .ready
        return .send(reply)
    }

    /// The end-of-data line arrived; `outcome` says whether the message may be kept.
    public mutating func dataEnded(_ outcome: DataDecoder.Outcome) -> Action {
        guard phase == .data else { return .send(Replies.commandError) }
        if outcome.sizeExceeded {
            reset()
            phase = .ready
            return .abortSubmission(Replies.messageTooBig(outcome.size, limit: configuration.limits.messageSize))
        }
        if outcome.lineTooLong {
            reset()
            phase = .ready
            return .abortSubmission(Replies.dataLineTooLong)
        }
        phase = .committing
        return .commitSubmission
    }

    /// The message is durable.
    public mutating func committed(id: String) -> Action {
        reset()
        phase = .ready
        return .send(Replies.accepted(id))
    }

    /// Writing or committing failed; nothing was kept.
    public mutating func commitFailed(_ reply: SMTPReply) -> Action {
        reset()
        phase = .ready
        return .send(reply)
    }

    /// The STARTTLS handshake finished: RFC 3207 §4.2 — forget everything, as after connect.
    public mutating func tlsStarted() {
        tlsActive = true
        startTLSAllowed = false
        reset()
        heloName = nil
        isExtended = false
        phase = .connected
    }

    /// The AUTH hook's result: `user` nil = failed (`535`), else `235` and relaying allowed.
    public mutating func authenticated(as user: String?, mechanism: String? = nil) -> Action {
        phase = .ready
        guard let user else { return .send(SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Authentication failed.")) }
        authenticatedUser = user
        authenticatedMechanism = mechanism
        reset()
        return .send(SMTPReply(235, EnhancedStatusCode(2, 7, 0), "Ok"))
    }

    /// The SASL exchange ended without a login (failed, cancelled, or the back end was down):
    /// send `reply` and take commands again.
    public mutating func authenticationEnded(_ reply: SMTPReply) -> Action {
        phase = .ready
        return .send(reply)
    }

    private mutating func reset() {
        transaction = nil
        if phase != .connected { phase = .ready }
    }
}
