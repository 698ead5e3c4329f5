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
        /// RFC 3030 §2: read exactly `size` octets of message data into the open submission
        /// (through the transaction's `ChunkDecoder`), then call `chunkReceived(_:)`, or
        /// `dataEnded(_:)` when `last`.
        case receiveChunk(size: Int, last: Bool)
        /// RFC 3030 §2, §3: the BDAT was refused: read and drop its `size` octets, then send
        /// the reply.
        case discardChunk(size: Int, then: SMTPReply)
    }

    enum Phase: Sendable, Equatable {
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
        /// RFC 3030: waiting for the queue to open a submission for the first BDAT's chunk.
        case openingChunk(size: Int, last: Bool)
        /// Receiving the octets of one BDAT chunk.
        case chunk(size: Int, last: Bool)
        /// Between BDAT chunks: a chunk without LAST was answered, the submission is open.
        case chunks
        /// Waiting for `commit()`.
        case committing
        /// Waiting for STARTTLS' handshake or the SASL exchange.
        case busy
        case closed
    }

    public let configuration: SMTPSessionConfiguration
    var phase: Phase = .connected
    var transaction: SMTPTransaction?
    /// The previous command was a BDAT whose chunk the handler read (or discarded): the
    /// next line must be a command, or the chunk size and the data disagree.
    private var afterChunk = false
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
    /// The login the TLS client's certificate names (`TLS_EXTERNAL`), if any: AUTH EXTERNAL
    /// is then offered and logs in as it (spec/mta.md §2.9).
    public private(set) var externalIdentity: String?
    /// AUTH EXTERNAL is offered: the client certificate named a login.
    public var externalAvailable: Bool { externalIdentity != nil }

    public init(configuration: SMTPSessionConfiguration) {
        self.configuration = configuration
        tlsActive = configuration.tlsActive
    }

    /// The envelope of the message being received, if any.
    public var currentTransaction: SMTPTransaction? { transaction }

    /// True while the handler must pass bytes to a `DataDecoder` instead of lines.
    public var isReceivingData: Bool { phase == .data }

    /// The TLS handshake gave a client certificate naming `identity`: offer AUTH EXTERNAL.
    public mutating func clientCertificateVerified(identity: String) {
        externalIdentity = identity
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
        if configuration.chunking { list.append("CHUNKING") }
        return list
    }

    // MARK: input

    /// A command line arrived (line end removed).
    public mutating func receive(line: ArraySlice<UInt8>) -> Action {
        let followsChunk = afterChunk
        afterChunk = false
        switch SMTPCommandParser.parse(line, limits: configuration.limits) {
        case .success(let command): return receive(command)
        case .failure(.chunkSyntax) where configuration.chunking:
            // A BDAT whose size cannot be read: its chunk's end is unknown, so nothing after
            // it can be taken as a command (the chunk's octets would be).
            afterChunk = false
            transaction = nil
            phase = .closed
            return .sendAndClose(SMTPCommandError.chunkSyntax.reply)
        case .failure(let error): return followsChunk ? outOfSync() : .send(error.reply)
        }
    }

    /// A command line longer than the limit arrived (its bytes were dropped).
    public mutating func receiveOverlongLine() -> Action {
        if afterChunk { return outOfSync() }
        return .send(Replies.lineTooLong)
    }

    /// Right after a BDAT chunk came something that is no command: the announced size did not
    /// match the data. Nothing after it can be trusted to be a command (a client's own message
    /// text would be), so the connection ends; an open submission is dropped by the handler.
    private mutating func outOfSync() -> Action {
        afterChunk = false
        transaction = nil
        phase = .closed
        return .sendAndClose(Replies.chunkOutOfSync)
    }

    /// A parsed command arrived.
    public mutating func receive(_ command: SMTPCommand) -> Action {
        afterChunk = false
        let action = dispatch(command)
        guard configuration.chunking, case .bdat(let size, _) = command else { return action }
        // The handler reads the chunk before the next command line either way.
        afterChunk = true
        // RFC 3030 §2: a refused BDAT's octets are still read, and thrown away.
        if case .send(let reply) = action { return .discardChunk(size: size, then: reply) }
        return action
    }

    private mutating func dispatch(_ command: SMTPCommand) -> Action {
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
            let hadChunks = phase == .chunks
            reset()
            // RFC 3030 §3: RSET throws away the chunks received so far.
            return hadChunks ? .abortSubmission(Replies.ok) : .send(Replies.ok)
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
            // RFC 3030 §3: DATA inside a BDAT transaction is a bad sequence.
            if phase == .chunks { return .send(Replies.badSequence) }
            guard phase == .mail, let transaction, !transaction.recipients.isEmpty else {
                return .send(Replies.commandError)
            }
            phase = .openingData
            return .openSubmission(transaction)
        case .bdat(let size, let last):
            // Courier does not offer CHUNKING (spec/mta.md §2.4); we do where configured.
            guard configuration.chunking else { return .send(Replies.commandError) }
            return bdat(size: size, last: last)
        }
    }

    private mutating func hello(_ name: String, extended: Bool) -> Action {
        guard phase == .connected || phase == .ready || phase == .mail || phase == .chunks else { return .send(Replies.commandError) }
        let hadChunks = phase == .chunks
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
        let reply = extended ? Replies.ehlo(configuration.hostname, extensions: ehloExtensions) : Replies.helo(configuration.hostname)
        // EHLO resets the transaction (RFC 5321 §4.1.4): chunks received so far are dropped.
        return hadChunks ? .abortSubmission(reply) : .send(reply)
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
        if case .openingChunk(let size, let last) = phase {
            phase = .chunk(size: size, last: last)
            return .receiveChunk(size: size, last: last)
        }
        guard phase == .openingData else { return .send(Replies.commandError) }
        phase = .data
        return .send(Replies.startData)
    }

    /// The queue could not open a submission.
    public mutating func submissionFailed(_ reply: SMTPReply) -> Action {
        if case .openingChunk(let size, _) = phase {
            reset()
            return .discardChunk(size: size, then: reply)
        }
        reset()
        phase = .ready
        return .send(reply)
    }

    /// The end-of-data line arrived; `outcome` says whether the message may be kept.
    /// For BDAT, the LAST chunk was read whole (RFC 3030 §2).
    public mutating func dataEnded(_ outcome: DataDecoder.Outcome) -> Action {
        if case .chunk(_, last: false) = phase { return .send(Replies.commandError) }
        let chunked = isReceivingChunk
        guard phase == .data || chunked else { return .send(Replies.commandError) }
        if outcome.sizeExceeded {
            reset()
            phase = .ready
            let limit = configuration.limits.messageSize
            return .abortSubmission(chunked ? Replies.chunkTooBig(outcome.size, limit: limit)
                                            : Replies.messageTooBig(outcome.size, limit: limit))
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

    mutating func reset() {
        transaction = nil
        if phase != .connected { phase = .ready }
    }
}
