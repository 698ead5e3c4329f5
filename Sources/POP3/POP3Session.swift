import MailAuthCore

/// What a session needs to know about its connection and listener (spec/access.md §3.5).
public struct POP3SessionConfiguration: Sendable {
    /// Host name for CRAM challenges.
    public var hostName: String
    /// STLS may be offered (a certificate is configured and `POP3_STARTTLS` is not NO).
    public var stlsAvailable: Bool
    /// The connection is already encrypted (pop3d-ssl).
    public var tlsActive: Bool
    /// `POP3_TLS_REQUIRED=1`: no login before STLS.
    public var tlsRequired: Bool
    /// Clear passwords (USER/PASS, PLAIN, LOGIN) allowed without TLS (loopback or configured).
    public var plaintextAllowedWithoutTLS: Bool
    /// `POP3AUTH`: SASL mechanisms advertised in CAPA before TLS.
    public var advertisedMechanisms: [String]
    /// `POP3AUTH_TLS`: advertised on TLS connections (falls back to `POP3AUTH` when empty).
    public var advertisedMechanismsTLS: [String]
    /// Ours, off by default (Courier has no APOP): the RFC 1939 §7 timestamp
    /// (`<pid.clock@host>`) shown in the greeting; APOP works only when it is set.
    public var apopTimestamp: String?
    /// `MIME_UNICODE_MESSAGE_TYPE`: the part type of the wrapper around messages with 8-bit
    /// headers, sent to clients that did not say `UTF8`.
    public var unicodeMessageType: String
    /// The MIME boundary of that wrapper (Courier: `=_<pid>-<time>`).
    public var unicodeBoundary: String

    public init(hostName: String, stlsAvailable: Bool = false, tlsActive: Bool = false, tlsRequired: Bool = false,
                plaintextAllowedWithoutTLS: Bool = true, advertisedMechanisms: [String] = [],
                advertisedMechanismsTLS: [String] = [], apopTimestamp: String? = nil,
                unicodeMessageType: String = POP3UnicodeWrapper.defaultMessageType,
                unicodeBoundary: String = "=_0-0") {
        self.apopTimestamp = apopTimestamp
        self.unicodeMessageType = unicodeMessageType
        self.unicodeBoundary = unicodeBoundary
        self.hostName = hostName
        self.stlsAvailable = stlsAvailable
        self.tlsActive = tlsActive
        self.tlsRequired = tlsRequired
        self.plaintextAllowedWithoutTLS = plaintextAllowedWithoutTLS
        self.advertisedMechanisms = advertisedMechanisms
        self.advertisedMechanismsTLS = advertisedMechanismsTLS
    }
}

/// Credentials the server must check through the auth chain.
public enum POP3AuthRequest: Equatable, Sendable {
    /// USER/PASS (`sasl` false) or SASL PLAIN/LOGIN.
    case password(user: String, password: [UInt8], sasl: Bool)
    case cram(CramAlgorithm, user: String, challenge: [UInt8], response: String)
    /// Look up the SCRAM verifier and call `provideScram(_:)`.
    case scramCredentials(ScramAlgorithm, user: String)
    /// SCRAM proved the password: look the account up.
    case verified(user: String)
    /// RFC 1939 §7: `digest` must be the hex MD5 of `timestamp` + the user's clear password.
    case apop(user: String, timestamp: String, digest: String)
}

/// What the NIO side does next.
public enum POP3Action: Equatable, Sendable {
    /// Write these bytes (whole lines).
    case send([UInt8])
    /// Write these bytes, then close.
    case sendAndClose([UInt8])
    /// Write this reply, then start TLS (RFC 2595 §4).
    case sendAndStartTLS([UInt8])
    /// Check credentials; answer with `loggedIn`, `loginFailed`, `loginRefused` or `provideScram`.
    case authenticate(POP3AuthRequest)
    /// RETR (`topLines` nil) or TOP: send the reply line for the message at `path` (RETR: `size`
    /// octets), its encoded bytes (inside `wrapper` when there is one) and `.`; then call
    /// `transmitted(index:newPath:)`.
    case transmit(index: Int, path: String, size: Int64, topLines: Int?, wrapper: POP3UnicodeWrapper?)
    /// A SASL exchange proved wrong credentials by itself (a SCRAM proof that did not match):
    /// count it as a failed login for `user` (throttling).
    case recordFailedLogin(user: String?)
    /// QUIT in TRANSACTION: write `reply`, then delete `deletions` (Maildir-relative paths),
    /// then close (RFC 1939 §6 UPDATE state).
    case quit(reply: [UInt8], deletions: [String])
}

/// Courier's POP3 dialogue as a pure state machine (RFC 1939 AUTHORIZATION → TRANSACTION →
/// UPDATE, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH), with Courier's texts
/// (spec/access.md §3.2). Lines in, actions out; no I/O.
public struct POP3Session: Sendable {
    private enum State: Sendable {
        case authorization(user: String?)
        case sasl(SASLServer)
        /// SCRAM sent its server-final data; the client's (empty) answer completes the login.
        case saslFinal(user: String)
        case authenticating(sasl: Bool)
        case transaction
        case closed
    }

    public private(set) var configuration: POP3SessionConfiguration
    private var state: State = .authorization(user: nil)
    public private(set) var messages: [POP3Message] = []
    /// The listing `messages` started from: its whole-maildrop LIST/UIDL answers serve while
    /// nothing is deleted (sizes and UIDLs never change in a session; RETR renames do not matter).
    private var listing = POP3Listing(messages: [])
    /// STAT's answer, kept up to date by login, DELE and RSET (STAT used to copy the whole
    /// 10,000-message list to count it).
    private var liveCount = 0
    private var liveBytes: Int64 = 0
    /// The logged-in user, once TRANSACTION starts.
    public private(set) var user: String?
    /// The login a verified TLS client certificate names, for AUTH EXTERNAL.
    public private(set) var externalIdentity: String?
    /// The user named in USER or a SASL exchange (for throttling and logs).
    public private(set) var attemptedUser: String?
    public private(set) var topCount = 0
    public private(set) var retrCount = 0
    /// The client said `UTF8` (RFC 6856 §2; Courier takes it before and after login): messages
    /// with 8-bit headers are sent as they are, not wrapped.
    public private(set) var utf8Enabled = false

    public init(configuration: POP3SessionConfiguration) {
        self.configuration = configuration
    }

    public var greeting: [UInt8] {
        guard let timestamp = configuration.apopTimestamp else { return POP3Replies.line(POP3Replies.greeting) }
        return POP3Replies.line(POP3Replies.greeting + " " + timestamp)
    }

    public var inTransaction: Bool {
        if case .transaction = state { return true }
        return false
    }

    // MARK: input

    /// One line from the client (without CRLF).
    public mutating func receive(line: ArraySlice<UInt8>) -> [POP3Action] {
        switch state {
        case .sasl(var server):
            let step = server.receive(String(decoding: line, as: UTF8.self))
            state = .sasl(server)
            return handle(step)
        case .saslFinal(let user):
            state = .authenticating(sasl: true)
            return [.authenticate(.verified(user: user))]
        case .authenticating, .closed:
            return []
        case .authorization(let pendingUser):
            return authorization(POP3Command.parse(line), pendingUser: pendingUser)
        case .transaction:
            return transaction(POP3Command.parse(line))
        }
    }

    /// A line longer than `POP3Command.maxLineBytes` (its rest was discarded).
    public mutating func receiveOverlongLine() -> [POP3Action] {
        if case .sasl = state {
            state = .authorization(user: nil)
            return reply(POP3Replies.authenticationFailed)
        }
        return reply(POP3Replies.invalidCommand)
    }

    private func reply(_ text: String) -> [POP3Action] { [.send(POP3Replies.line(text))] }

    private var plaintextAllowed: Bool { configuration.tlsActive || configuration.plaintextAllowedWithoutTLS }
    private var loginNeedsTLS: Bool { configuration.tlsRequired && !configuration.tlsActive }

    private mutating func authorization(_ command: POP3Command, pendingUser: String?) -> [POP3Action] {
        switch command {
        case .capa:
            return [.send(capabilities)]
        case .user(let name):
            guard !loginNeedsTLS, plaintextAllowed else { return reply(POP3Replies.tlsRequired) }
            state = .authorization(user: name)
            attemptedUser = name
            return reply(POP3Replies.passwordRequired)
        case .pass(let password):
            guard let pendingUser else { return reply(POP3Replies.userPassRequired) }
            state = .authenticating(sasl: false)
            return [.authenticate(.password(user: pendingUser, password: Array(password.utf8), sasl: false))]
        case .auth(let name, let initial):
            guard !loginNeedsTLS else { return reply(POP3Replies.tlsRequired) }
            guard let mechanism = SASLMechanism(name: name), mechanism != .external || externalIdentity != nil else {
                return reply(POP3Replies.authenticationFailed)
            }
            if mechanism.sendsPasswordInClear && !plaintextAllowed { return reply(POP3Replies.tlsRequired) }
            var server = SASLServer(mechanism: mechanism, hostName: configuration.hostName)
            let step = server.start(initialResponse: initial)
            state = .sasl(server)
            return handle(step)
        case .apop(let name, let digest):
            // Courier answers APOP with "Invalid command."; only our opt-in APOP takes it.
            guard let timestamp = configuration.apopTimestamp else { return reply(POP3Replies.invalidCommand) }
            guard !loginNeedsTLS else { return reply(POP3Replies.tlsRequired) }
            attemptedUser = name
            state = .authenticating(sasl: false)
            return [.authenticate(.apop(user: name, timestamp: timestamp, digest: digest))]
        case .stls:
            guard configuration.stlsAvailable && !configuration.tlsActive else { return reply(POP3Replies.tlsUnavailable) }
            return [.sendAndStartTLS(POP3Replies.line(POP3Replies.beginTLS))]
        case .utf8:
            utf8Enabled = true
            return reply(POP3Replies.utf8Enabled)
        case .lang(let tag):
            return language(tag)
        case .quit:
            state = .closed
            return [.sendAndClose(POP3Replies.line(POP3Replies.betterLuck))]
        default:
            return reply(POP3Replies.invalidCommand)
        }
    }

    private mutating func handle(_ step: SASLStep) -> [POP3Action] {
        switch step {
        case .challenge(let bytes):
            return [.send(Array(("+ " + AuthEncoding.base64(bytes)).utf8) + [13, 10])]
        case .verifyPassword(let authorizationID, let user, let password):
            attemptedUser = user
            if let authorizationID, authorizationID != user {
                state = .authorization(user: nil)
                return reply(POP3Replies.authenticationFailed)
            }
            state = .authenticating(sasl: true)
            return [.authenticate(.password(user: user, password: password, sasl: true))]
        case .verifyCram(let algorithm, let user, let challenge, let response):
            attemptedUser = user
            state = .authenticating(sasl: true)
            return [.authenticate(.cram(algorithm, user: user, challenge: challenge, response: response))]
        case .needScramCredentials(let algorithm, let user):
            attemptedUser = user
            return [.authenticate(.scramCredentials(algorithm, user: user))]
        case .verifyExternal(let authorizationID):
            // RFC 4422 Appendix A: the certificate's identity; an authzid may only repeat it.
            guard let identity = externalIdentity, authorizationID.map({ $0.isEmpty || $0 == identity }) ?? true else {
                state = .authorization(user: nil)
                return reply(POP3Replies.authenticationFailed)
            }
            attemptedUser = identity
            state = .authenticating(sasl: true)
            return [.authenticate(.verified(user: identity))]
        case .success(let user, let finalData):
            if let finalData {
                state = .saslFinal(user: user)
                return [.send(Array(("+ " + AuthEncoding.base64(finalData)).utf8) + [13, 10])]
            }
            state = .authenticating(sasl: true)
            return [.authenticate(.verified(user: user))]
        case .failure(let failure):
            state = .authorization(user: nil)
            if failure == .authenticationFailed {
                return [.recordFailedLogin(user: attemptedUser)] + reply(POP3Replies.authenticationFailed)
            }
            return reply(failure == .aborted ? POP3Replies.authenticationAborted : POP3Replies.authenticationFailed)
        }
    }

    // MARK: results of the server's work

    /// The SCRAM verifier asked for (nil: unknown user).
    public mutating func provideScram(_ credentials: ScramCredentials?) -> [POP3Action] {
        guard case .sasl(var server) = state else { return [] }
        let step = server.provide(credentials)
        state = .sasl(server)
        return handle(step)
    }

    /// The credentials were wrong (`temporary`: the auth chain could not answer).
    public mutating func loginFailed(temporary: Bool = false) -> [POP3Action] {
        var sasl = false
        if case .authenticating(let wasSASL) = state { sasl = wasSASL }
        if case .sasl = state { sasl = true }
        state = .authorization(user: nil)
        if temporary { return reply(POP3Replies.temporaryProblem) }
        return reply(sasl ? POP3Replies.authenticationFailed : POP3Replies.loginFailed)
    }

    /// The login was good but the account may not use POP3 now (`reply` is one of the
    /// account replies of §3.2): Courier's pop3d prints it and exits.
    public mutating func loginRefused(_ text: String) -> [POP3Action] {
        state = .closed
        return [.sendAndClose(POP3Replies.line(text))]
    }

    /// Logged in with this mailbox: TRANSACTION starts.
    public mutating func loggedIn(user: String, messages: [POP3Message]) -> [POP3Action] {
        loggedIn(user: user, listing: POP3Listing(messages: messages))
    }

    /// Logged in with this listing (shared with other sessions of the same maildrop).
    public mutating func loggedIn(user: String, listing: POP3Listing) -> [POP3Action] {
        self.user = user
        self.listing = listing
        messages = listing.messages
        liveCount = listing.liveCount
        liveBytes = listing.liveBytes
        state = .transaction
        return reply(POP3Replies.loggedIn)
    }

    /// TLS is up (after STLS): STLS disappears from CAPA and plaintext logins are allowed.
    /// The TLS handshake gave a client certificate naming `identity` (`TLS_EXTERNAL`).
    public mutating func clientCertificateVerified(identity: String) {
        externalIdentity = identity
    }

    public mutating func tlsStarted() {
        configuration.tlsActive = true
        state = .authorization(user: nil)
    }

    /// A RETR or TOP finished; `newPath` when RETR renamed the file (seen flag).
    public mutating func transmitted(index: Int, newPath: String?) {
        guard let newPath, messages.indices.contains(index) else { return }
        messages[index].path = newPath
    }

    // MARK: TRANSACTION

    var capabilities: [UInt8] {
        var lines = [POP3Replies.capabilities]
        let mechanisms = configuration.tlsActive && !configuration.advertisedMechanismsTLS.isEmpty
            ? configuration.advertisedMechanismsTLS : configuration.advertisedMechanisms
        // spec/access.md §3: EXTERNAL is appended when a TLS client certificate names a login.
        let offered = mechanisms + (externalIdentity != nil && configuration.tlsActive ? ["EXTERNAL"] : [])
        if !offered.isEmpty { lines.append("SASL " + offered.joined(separator: " ")) }
        if configuration.stlsAvailable && !configuration.tlsActive { lines.append("STLS") }
        lines += ["TOP", "USER", "LOGIN-DELAY 10", "PIPELINING", "UIDL", "UTF8 USER", "LANG",
                  "IMPLEMENTATION Courier Mail Server", "."]
        return lines.flatMap { POP3Replies.line($0) }
    }

    private mutating func recountLive() {
        liveCount = 0
        liveBytes = 0
        for index in messages.indices where !messages[index].deleted {
            liveCount += 1
            liveBytes += messages[index].size
        }
    }

    /// The index of a live message from a client's number, or nil (RFC 1939 §5: numbers
    /// start at 1; deleted messages may not be referred to).
    func messageIndex(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let number = Int(text), number >= 1, number <= messages.count, !messages[number - 1].deleted else { return nil }
        return number - 1
    }

    private mutating func transaction(_ command: POP3Command) -> [POP3Action] {
        switch command {
        case .capa:
            return [.send(capabilities)]
        case .stat:
            return reply("+OK \(liveCount) \(liveBytes)")
        case .list(let argument):
            guard let argument else {
                return [.send(liveCount == messages.count ? listing.listReply : POP3ListingWriter.list(messages))]
            }
            return single(argument) { "\($0.size)" }
        case .uidl(let argument):
            guard let argument else {
                return [.send(liveCount == messages.count ? listing.uidlReply : POP3ListingWriter.uidl(messages))]
            }
            return single(argument) { $0.uidl }
        case .top(let number, let lines):
            guard let index = messageIndex(number) else { return reply(POP3Replies.invalidMessageNumber) }
            guard lines.utf8.count <= 9, lines.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let count = Int(lines) else {
                return reply(POP3Replies.invalidCommand)
            }
            topCount += 1
            return [transmit(index, topLines: count)]
        case .retr(let number):
            guard let index = messageIndex(number) else { return reply(POP3Replies.invalidMessageNumber) }
            retrCount += 1
            return [transmit(index, topLines: nil)]
        case .dele(let number):
            guard let index = messageIndex(number) else { return reply(POP3Replies.invalidMessageNumber) }
            messages[index].deleted = true
            liveCount -= 1
            liveBytes -= messages[index].size
            return reply(POP3Replies.deleted)
        case .rset:
            for index in messages.indices { messages[index].deleted = false }
            recountLive()
            return reply(POP3Replies.resurrected)
        case .noop:
            return reply(POP3Replies.yup)
        case .utf8:
            utf8Enabled = true
            return reply(POP3Replies.utf8Enabled)
        case .lang(let tag):
            return language(tag)
        case .quit:
            state = .closed
            return [.quit(reply: POP3Replies.line(POP3Replies.byeBye),
                          deletions: messages.filter(\.deleted).map(\.path))]
        default:
            return reply(POP3Replies.invalidCommand)
        }
    }

    /// RETR or TOP of the message at `index`: a message with 8-bit headers goes out wrapped
    /// unless the client said `UTF8` (spec/access.md §3.3).
    private func transmit(_ index: Int, topLines: Int?) -> POP3Action {
        let message = messages[index]
        guard message.utf8 && !utf8Enabled else {
            return .transmit(index: index, path: message.path, size: message.size, topLines: topLines, wrapper: nil)
        }
        let wrapper = POP3UnicodeWrapper(boundary: configuration.unicodeBoundary,
                                         messageType: configuration.unicodeMessageType)
        return .transmit(index: index, path: message.path, size: wrapper.wrappedSize(message.size),
                         topLines: topLines, wrapper: wrapper)
    }

    /// RFC 6856 §3 LANG as Courier's upstream pop3d answers it: English only; `*` picks it.
    private func language(_ tag: String?) -> [POP3Action] {
        guard let tag else { return [.send(POP3Replies.languageListing.flatMap { POP3Replies.line($0) })] }
        let chosen = tag == "*" ? "en" : tag
        guard chosen == "en" || chosen == "i-default" else { return reply(POP3Replies.languageUnavailable) }
        return reply(POP3Replies.languageChosen(chosen))
    }

    /// LIST or UIDL with a message number: one line.
    private func single(_ argument: String, _ value: (POP3Message) -> String) -> [POP3Action] {
        guard let index = messageIndex(argument) else { return reply(POP3Replies.invalidMessageNumber) }
        return reply("+OK \(index + 1) \(value(messages[index]))")
    }
}
