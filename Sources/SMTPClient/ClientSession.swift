import MailAuthCore
import MailCore

/// A pure SMTP client session (RFC 5321 §3, §4): replies in, commands and events out. The
/// connection driver writes `.send` bytes, does TLS on `.startTLS`, feeds every reply to
/// `receive(_:)`, starts transactions on `.ready` and closes on `.failed`/`.closed`.
/// Courier's rules (spec §5.3.4–§5.3.7): EHLO with HELO fallback on 5xx, STARTTLS by policy,
/// AUTH after TLS, PIPELINING batches MAIL/RCPT/DATA, per-recipient RCPT results, DATA only
/// when a recipient was accepted, RSET after a failed transaction so the session can be reused.
public struct ClientSession: Sendable {
    enum Expect: Sendable, Equatable {
        case greeting, ehlo, helo, startTLS, auth, rset, quit
        /// RSET sent to check a kept-open session before its next transaction.
        case reuseCheck
        case mail, rcpt(Int), data, dataEnd, discardedData
    }

    enum AuthStep: Sendable, Equatable { case plain, loginUser, loginPassword, cram }

    public let settings: ClientSettings
    public private(set) var capabilities = ServerCapabilities()
    public private(set) var tlsActive: Bool
    public private(set) var authenticated = false
    /// False after HELO fallback (no extensions).
    public private(set) var extended = false
    public private(set) var isIdle = false

    private var expecting: [Expect] = [.greeting]
    private var authStep: AuthStep?
    private var awaitingHandshake = false
    private var finished = false

    // The transaction in progress.
    private var transaction: ClientTransaction?
    private var commands: [String] = []
    private var results: [RecipientResult?] = []
    private var mailReply: ClientReply?
    private var mailCommand = ""
    private var acceptedCount = 0
    private var downgrade = false
    /// VERP to a server without Courier's extension (spec/mta.md §5.3.5): the message goes once
    /// per recipient; these are the parts still to send and the results of those sent.
    private var splitting = false
    private var partsLeft: [ClientTransaction] = []
    private var partResults: [RecipientResult] = []
    /// For each result in part order, the recipient's place in the whole transaction.
    private var partOrder: [Int] = []

    public init(settings: ClientSettings) {
        self.settings = settings
        tlsActive = settings.tls == .implicit
    }

    // MARK: replies

    /// Feeds one server reply.
    public mutating func receive(_ reply: ClientReply) -> [ClientEvent] {
        guard !finished else { return [] }
        guard !expecting.isEmpty else {
            return fail(permanent: false, reply, command: "(no command)")
        }
        let expect = expecting.removeFirst()
        switch expect {
        case .greeting:
            guard reply.isPositive else { return fail(permanent: reply.isPermanentFailure, reply, command: "(greeting)") }
            return sendEHLO()
        case .ehlo:
            if reply.isPositive {
                extended = true
                capabilities = ServerCapabilities(ehloLines: reply.lines)
                return afterHello()
            }
            if reply.isPermanentFailure {
                expecting.append(.helo)
                return [.send(ClientCommands.helo(settings.heloName))]
            }
            return fail(permanent: false, reply, command: "EHLO \(settings.heloName)")
        case .helo:
            guard reply.isPositive else {
                return fail(permanent: reply.isPermanentFailure, reply, command: "HELO \(settings.heloName)")
            }
            extended = false
            capabilities = ServerCapabilities()
            return afterHello()
        case .startTLS:
            guard reply.isPositive else {
                // Spec §5.3.4: a refused STARTTLS is a temporary failure for this server.
                return fail(permanent: false, reply, command: "STARTTLS")
            }
            awaitingHandshake = true
            return [.startTLS]
        case .auth:
            return authReply(reply)
        case .rset:
            return becomeIdle()
        case .reuseCheck:
            // A session kept open between messages must still answer 250 to RSET
            // (RFC 5321 §4.1.1.5); otherwise it is not used again.
            guard reply.isPositive else { return fail(permanent: false, reply, command: "RSET") }
            return becomeIdle()
        case .quit:
            finished = true
            return [.closed]
        case .mail:
            return mailReply(reply)
        case let .rcpt(index):
            return rcptReply(index, reply)
        case .data:
            return dataReply(reply)
        case .dataEnd:
            return dataEndReply(reply)
        case .discardedData:
            return finishTransaction()
        }
    }

    /// The TLS handshake asked for by `.startTLS` succeeded: RFC 3207 §4.2, start over with EHLO.
    public mutating func tlsEstablished() -> [ClientEvent] {
        guard awaitingHandshake else { return [] }
        awaitingHandshake = false
        tlsActive = true
        capabilities = ServerCapabilities()
        return sendEHLO()
    }

    /// The connection broke: recipients of the transaction in progress not yet decided are deferred.
    public mutating func connectionLost(_ text: String) -> [RecipientResult] {
        finished = true
        isIdle = false
        if splitting {
            // Parts already sent keep their results; the one in progress and the rest wait.
            var out = partResults
            if transaction != nil { out += undecidedDeferred(text) }
            let reply = ClientReply(451, text)
            for part in partsLeft {
                out += part.recipients.map { _ in RecipientResult(status: .deferred, reply: reply, command: "MAIL FROM:<\(part.sender)>") }
            }
            splitting = false
            partsLeft = []
            partResults = []
            clearTransaction()
            return inOriginalOrder(out)
        }
        guard transaction != nil else { return [] }
        let out = undecidedDeferred(text)
        clearTransaction()
        return out
    }

    // MARK: commands from the driver

    /// Starts a transaction; only when idle (after `.ready`).
    public mutating func begin(_ tx: ClientTransaction) -> [ClientEvent] {
        guard isIdle, !finished else { return [] }
        isIdle = false
        // Spec §5.3.5 (VERP): without `XVERP=Courier` each recipient gets its own transaction
        // with its own return path; the null sender has nothing to encode.
        // Spec §5.3.5, and Courier's esmtp client: a server without DSN cannot be told NOTIFY=NEVER,
        // so those recipients go in a transaction of their own with the null sender (nobody
        // will get a bounce for them), after the others.
        let serverHasDSN = capabilities.dsn
        let silent = { (recipient: ClientTransaction.Recipient) in
            !serverHasDSN && recipient.notify.contains { $0.uppercased() == "NEVER" }
        }
        if tx.verp && !capabilities.courierVERP && !tx.sender.isEmpty && !tx.recipients.isEmpty {
            let parts = tx.recipients.map { recipient in
                var part = tx
                part.sender = silent(recipient) ? "" : VERPAddress.sender(tx.sender, for: recipient.address)
                part.recipients = [recipient]
                part.verp = false
                return part
            }
            return beginParts(parts, order: Array(tx.recipients.indices))
        }
        let quiet = tx.recipients.indices.filter { silent(tx.recipients[$0]) }
        if !tx.sender.isEmpty && !quiet.isEmpty {
            let others = tx.recipients.indices.filter { !silent(tx.recipients[$0]) }
            var parts: [ClientTransaction] = []
            if !others.isEmpty {
                var part = tx
                part.recipients = others.map { tx.recipients[$0] }
                parts.append(part)
            }
            var part = tx
            part.sender = ""
            part.verp = false
            part.recipients = quiet.map { tx.recipients[$0] }
            parts.append(part)
            return beginParts(parts, order: others + quiet)
        }
        return beginPart(tx)
    }

    /// Sends `parts` one after the other; their results are reported together, in the order
    /// of the whole transaction's recipients (`order`: each part recipient's place there).
    private mutating func beginParts(_ parts: [ClientTransaction], order: [Int]) -> [ClientEvent] {
        var parts = parts
        splitting = true
        partResults = []
        partOrder = order
        let first = parts.removeFirst()
        partsLeft = parts
        return beginPart(first)
    }

    /// Results collected part by part, put back in the whole transaction's recipient order.
    private func inOriginalOrder(_ list: [RecipientResult]) -> [RecipientResult] {
        guard list.count == partOrder.count, var ordered = list.first.map({ Array(repeating: $0, count: list.count) }) else {
            return list
        }
        for (position, index) in partOrder.enumerated() where index < ordered.count { ordered[index] = list[position] }
        return ordered
    }

    /// One transaction on the wire (the whole message, or one recipient's VERP part).
    private mutating func beginPart(_ tx: ClientTransaction) -> [ClientEvent] {
        transaction = tx
        results = Array(repeating: nil, count: tx.recipients.count)
        commands = tx.recipients.map { ClientCommands.rcptTo($0, capabilities: capabilities) }
        acceptedCount = 0
        mailReply = nil
        if tx.recipients.isEmpty { return finishTransaction() }
        // Spec §5.3.5: 8-bit headers or addresses need SMTPUTF8.
        if tx.smtpUTF8 && !capabilities.smtpUTF8 {
            let reply = ClientReply(code: 553, lines: [
                Array("5.6.7 Unable to deliver Unicode E-mail to a non-Unicode mail server.".utf8)])
            for index in results.indices {
                results[index] = RecipientResult(status: .failed, reply: reply, command: "MAIL FROM:<\(tx.sender)>")
            }
            return finishTransaction()
        }
        downgrade = tx.eightBit && !capabilities.eightBitMIME
        mailCommand = ClientCommands.mailFrom(tx, capabilities: capabilities, downgraded: downgrade)
        if capabilities.pipelining {
            // RFC 2920 §3.1: MAIL, the RCPTs and DATA go as one group.
            var batch = ClientCommands.line(mailCommand)
            expecting.append(.mail)
            for (index, command) in commands.enumerated() {
                batch += ClientCommands.line(command)
                expecting.append(.rcpt(index))
            }
            batch += ClientCommands.data
            expecting.append(.data)
            return [.send(batch)]
        }
        expecting.append(.mail)
        return [.send(ClientCommands.line(mailCommand))]
    }

    /// Checks that an idle session kept open since its last transaction is still alive before
    /// the next one: RSET, `.ready` on 250, `.failed` on anything else (spec/mta.md §5.3.2:
    /// the esmtp client reuses sessions to the same host). Only when idle.
    public mutating func reset() -> [ClientEvent] {
        guard isIdle, !finished else { return [] }
        isIdle = false
        expecting.append(.reuseCheck)
        return [.send(ClientCommands.rset)]
    }

    /// Ends the session politely.
    public mutating func quit() -> [ClientEvent] {
        guard !finished, !expecting.contains(.quit) else { return [] }
        isIdle = false
        expecting.append(.quit)
        return [.send(ClientCommands.quit)]
    }

    // MARK: private steps

    private mutating func sendEHLO() -> [ClientEvent] {
        expecting.append(.ehlo)
        return [.send(ClientCommands.ehlo(settings.heloName))]
    }

    private mutating func afterHello() -> [ClientEvent] {
        if !tlsActive && settings.tls != .none && capabilities.startTLS {
            expecting.append(.startTLS)
            return [.send(ClientCommands.startTLS)]
        }
        if settings.tls == .required && !tlsActive {
            return fail(permanent: true, ClientReply(554, "5.7.10 /SECURITY=REQUIRED set, but TLS is not available"),
                        command: "STARTTLS")
        }
        if let credentials = settings.credentials, !authenticated, extended {
            // Spec §3.10: the best mechanism both sides know: CRAM-MD5, PLAIN, LOGIN.
            if capabilities.authMechanisms.contains("CRAM-MD5") {
                authStep = .cram
                expecting.append(.auth)
                return [.send(ClientCommands.line("AUTH CRAM-MD5"))]
            }
            if capabilities.authMechanisms.contains("PLAIN") {
                let token = Self.base64([0] + Array(credentials.user.utf8) + [0] + Array(credentials.password.utf8))
                authStep = .plain
                expecting.append(.auth)
                return [.send(Array("AUTH PLAIN ".utf8) + token + [13, 10])]
            }
            if capabilities.authMechanisms.contains("LOGIN") {
                authStep = .loginUser
                expecting.append(.auth)
                return [.send(ClientCommands.line("AUTH LOGIN"))]
            }
            return fail(permanent: true, ClientReply(535, "5.7.8 no AUTH mechanism in common with the relay"),
                        command: "AUTH")
        }
        return becomeIdle()
    }

    private mutating func authReply(_ reply: ClientReply) -> [ClientEvent] {
        guard let step = authStep, let credentials = settings.credentials else {
            return fail(permanent: false, reply, command: "AUTH")
        }
        if reply.isPositive {
            authenticated = true
            authStep = nil
            return becomeIdle()
        }
        guard reply.isIntermediate, reply.code == 334, step != .plain else {
            return fail(permanent: reply.isPermanentFailure, reply, command: "AUTH")
        }
        expecting.append(.auth)
        if step == .cram {
            // RFC 2195 §2: "user hex(HMAC-MD5(challenge, password))", base64-encoded.
            let challenge = Base64Decoder.decode(reply.lines.first ?? [])
            let digest = CramAlgorithm.md5.hmac(challenge: challenge, password: Array(credentials.password.utf8))
            authStep = .plain // the next reply must be the final one
            return [.send(Self.base64(Array("\(credentials.user) \(AuthEncoding.hex(digest))".utf8)) + [13, 10])]
        }
        if step == .loginUser {
            authStep = .loginPassword
            return [.send(Self.base64(Array(credentials.user.utf8)) + [13, 10])]
        }
        authStep = .plain // the next reply must be the final one
        return [.send(Self.base64(Array(credentials.password.utf8)) + [13, 10])]
    }

    private mutating func mailReply(_ reply: ClientReply) -> [ClientEvent] {
        mailReply = reply
        if !reply.isPositive {
            let status = RecipientResult.status(of: reply)
            for index in results.indices {
                results[index] = RecipientResult(status: status, reply: reply, command: mailCommand)
            }
            if capabilities.pipelining { return [] } // the RCPT and DATA replies follow
            return resetAndFinish()
        }
        if capabilities.pipelining { return [] }
        return sendRcpt(0)
    }

    private mutating func sendRcpt(_ index: Int) -> [ClientEvent] {
        expecting.append(.rcpt(index))
        return [.send(ClientCommands.line(commands[index]))]
    }

    private mutating func rcptReply(_ index: Int, _ reply: ClientReply) -> [ClientEvent] {
        let mailAccepted = mailReply?.isPositive == true
        if mailAccepted, index < results.count {
            if reply.isPositive {
                acceptedCount += 1
            } else {
                results[index] = RecipientResult(status: RecipientResult.status(of: reply), reply: reply,
                                                 command: commands[index])
            }
        }
        if capabilities.pipelining { return [] }
        if index + 1 < commands.count { return sendRcpt(index + 1) }
        // Spec §5.3.5: without PIPELINING, DATA only when some recipient was accepted.
        guard acceptedCount > 0 else { return resetAndFinish() }
        expecting.append(.data)
        return [.send(ClientCommands.data)]
    }

    private mutating func dataReply(_ reply: ClientReply) -> [ClientEvent] {
        let live = mailReply?.isPositive == true && acceptedCount > 0
        if reply.code == 354 {
            guard live, let tx = transaction else {
                // Nobody to deliver to, yet the server wants data: send an empty message.
                expecting.append(.discardedData)
                return [.send([UInt8(ascii: "."), 13, 10])]
            }
            expecting.append(.dataEnd)
            let body = downgrade ? EightBitDowngrade.convert(tx.body) : tx.body
            return [.send(DataEncoder.encode(body))]
        }
        if live { decideAccepted(reply, command: "DATA") }
        return resetAndFinish()
    }

    private mutating func dataEndReply(_ reply: ClientReply) -> [ClientEvent] {
        decideAccepted(reply, command: "DATA")
        let done = finishTransaction()
        return done
    }

    /// Every recipient accepted at RCPT gets the outcome of DATA.
    private mutating func decideAccepted(_ reply: ClientReply, command: String) {
        let status = RecipientResult.status(of: reply)
        let passedOn = status == .delivered && capabilities.dsn
        for index in results.indices where results[index] == nil {
            results[index] = RecipientResult(status: status, reply: reply, command: command, dsnPassedOn: passedOn)
        }
    }

    private mutating func resetAndFinish() -> [ClientEvent] {
        let list = undecidedDeferred()
        clearTransaction()
        expecting.append(.rset)
        return completed(list) + [.send(ClientCommands.rset)]
    }

    private mutating func finishTransaction() -> [ClientEvent] {
        let list = undecidedDeferred()
        clearTransaction()
        return completed(list) + becomeIdle()
    }

    /// The results of a transaction on the wire: the whole message's, or, when VERP splits
    /// it, collected until the last part is done.
    private mutating func completed(_ list: [RecipientResult]) -> [ClientEvent] {
        guard splitting else { return [.finished(list)] }
        partResults += list
        guard partsLeft.isEmpty else { return [] }
        splitting = false
        let all = inOriginalOrder(partResults)
        partResults = []
        return [.finished(all)]
    }

    /// The results so far, recipients nobody answered for deferred.
    private func undecidedDeferred(_ text: String = "4.3.0 transaction not completed") -> [RecipientResult] {
        let reply = ClientReply(451, text)
        return results.enumerated().map { index, result in
            result ?? RecipientResult(status: .deferred, reply: reply,
                                      command: mailReply?.isPositive == true ? "DATA" : (index < commands.count ? commands[index] : "DATA"))
        }
    }

    private mutating func clearTransaction() {
        transaction = nil
        results = []
        commands = []
        mailReply = nil
        acceptedCount = 0
    }

    private mutating func becomeIdle() -> [ClientEvent] {
        guard expecting.isEmpty else { return [] }
        if splitting, !partsLeft.isEmpty {
            return beginPart(partsLeft.removeFirst())
        }
        isIdle = true
        return [.ready]
    }

    /// RFC 4954 §4: one unbroken base64 line (MailCore's encoder wraps MIME-style).
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        Base64Encoder.encode(bytes).filter { $0 != 10 && $0 != 13 }
    }

    private mutating func fail(permanent: Bool, _ reply: ClientReply, command: String) -> [ClientEvent] {
        finished = true
        isIdle = false
        return [.failed(SessionFailure(permanent: permanent, reply: reply, command: command))]
    }
}
