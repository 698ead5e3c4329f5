/// The IMAP session state machine (RFC 3501 §3, RFC 9051 §3) as a value: command bytes in,
/// response bytes and actions out. It owns the protocol state, capabilities, ENABLE, and the
/// commands that need no mail store; the server performs the actions it returns (login,
/// STARTTLS, mailbox commands) and reports back through the `…Finished` methods.
public struct IMAPSession: Sendable {
    /// RFC 3501 §3.
    public enum State: Sendable, Equatable {
        case notAuthenticated
        case authenticated(user: String)
        case selected(user: String, mailbox: MailboxName, readOnly: Bool)
        case logout
    }

    /// What the server must do next.
    public enum Action: Sendable, Equatable {
        /// Write these bytes.
        case send([UInt8])
        /// Write these bytes and close the connection.
        case sendAndClose([UInt8])
        /// Write these bytes, then start TLS (RFC 3501 §6.2.1).
        case sendAndStartTLS([UInt8])
        /// Check a LOGIN; then call ``loginFinished(tag:user:)``.
        case login(tag: [UInt8], user: [UInt8], password: [UInt8], early: [UInt8])
        /// Run a SASL exchange; then call ``loginFinished(tag:user:)``.
        case authenticate(tag: [UInt8], mechanism: String, initialResponse: [UInt8]?, early: [UInt8])
        /// A command that needs the mail store. `early` holds responses to write first.
        case mailbox(TaggedCommand, early: [UInt8])
    }

    public private(set) var state = State.notAuthenticated
    public private(set) var configuration: IMAPSessionConfiguration
    /// ENABLEd extensions (RFC 5161).
    public private(set) var enabled: Set<String> = []
    private var consecutiveErrors = 0

    public init(configuration: IMAPSessionConfiguration) {
        self.configuration = configuration
    }

    public var utf8Enabled: Bool { enabled.contains("UTF8=ACCEPT") || enabled.contains("IMAP4REV2") }
    public var isRev2: Bool { enabled.contains("IMAP4REV2") }
    public var tlsActive: Bool { configuration.tlsActive }

    var mayLogin: Bool {
        (configuration.tlsActive || configuration.plaintextAllowedWithoutTLS) && !(configuration.tlsRequired && !configuration.tlsActive)
    }

    /// The login the TLS client certificate names (`TLS_EXTERNAL`), if any: AUTH=EXTERNAL is
    /// then offered and logs in as it.
    public private(set) var externalIdentity: String?
    /// AUTH=EXTERNAL is offered: the client certificate named a login.
    public var externalAvailable: Bool { externalIdentity != nil }

    /// The TLS handshake gave a client certificate naming `identity`.
    public mutating func clientCertificateVerified(identity: String) {
        externalIdentity = identity
    }

    /// The capability list for the current state (spec/access.md §2.2 construction rule).
    public var capabilities: [String] {
        var list = configuration.tlsActive ? (configuration.capabilitiesTLS ?? configuration.capabilities) : configuration.capabilities
        if case .notAuthenticated = state {
            if mayLogin {
                list += configuration.authMechanisms.map { "AUTH=" + $0 }
                if externalAvailable { list.append("AUTH=EXTERNAL") }
            }
            if configuration.tlsAvailable && !configuration.tlsActive { list.append("STARTTLS") }
            if !mayLogin { list.append("LOGINDISABLED") }
        }
        list += ["ENABLE", "UTF8=ACCEPT"]
        var seen = Set<String>()
        return list.filter { seen.insert($0.uppercased()).inserted }.map { word in
            // RFC 7889 §3.1: the size limit every mailbox shares, from the APPEND literal limit.
            word.uppercased() == "APPENDLIMIT" ? "APPENDLIMIT=\(configuration.limits.appendLiteral)" : word
        }
    }

    /// The greeting (RFC 3501 §7.1.1), with the capability list as Courier sends it.
    public func greeting() -> [UInt8] {
        var w = ResponseWriter()
        w.untaggedStatus(.ok, .capability(capabilities), configuration.greeting)
        return w.bytes
    }

    /// One framer event in.
    public mutating func receive(_ event: CommandFramer.Event) -> Action {
        switch event {
        case .command(let bytes): return receive(command: bytes)
        case .continuationNeeded:
            var w = ResponseWriter()
            w.continuation("Ready for literal data")
            return .send(w.bytes)
        case .tooLong(let tag):
            return error(tag: tag, .bad, "Command line too long")
        case .literalRefused(let tag, let size):
            return error(tag: tag, .no, .tooBig, "Literal of \(size) bytes is too large")
        case .fatal(let text):
            var w = ResponseWriter()
            w.untaggedStatus(.bye, nil, text)
            state = .logout
            return .sendAndClose(w.bytes)
        case .appendStreamStart, .appendStreamBytes, .appendStreamEnd:
            // The server takes streamed APPEND messages to the store itself (see CommandFramer).
            return .send([])
        }
    }

    /// One whole command (as framed) in.
    public mutating func receive(command bytes: [UInt8]) -> Action {
        if bytes.isEmpty { return .send([]) }  // RFC tolerance: blank lines are ignored
        switch CommandParser.parse(bytes, limits: configuration.limits) {
        case .failure(let failure):
            return error(tag: failure.tag, .bad, failure.error.text)
        case .success(let tagged):
            return dispatch(tagged)
        }
    }

    private mutating func error(tag: [UInt8]?, _ status: Status, _ text: String) -> Action {
        error(tag: tag, status, nil, text)
    }

    private mutating func error(tag: [UInt8]?, _ status: Status, _ code: ResponseCode?, _ text: String) -> Action {
        consecutiveErrors += 1
        var w = ResponseWriter()
        if let tag { w.tagged(tag, status, code, text) } else { w.untaggedStatus(status, code, text) }
        if consecutiveErrors >= configuration.maxConsecutiveErrors {
            w.untaggedStatus(.bye, nil, "Too many protocol errors")
            state = .logout
            return .sendAndClose(w.bytes)
        }
        return .send(w.bytes)
    }

    private var currentStates: SessionStates {
        switch state {
        case .notAuthenticated: .notAuthenticated
        case .authenticated: .authenticated
        case .selected: .selected
        case .logout: []
        }
    }

    private mutating func dispatch(_ tagged: TaggedCommand) -> Action {
        let tag = tagged.tag
        guard CommandTable.allowedStates(tagged.command).contains(currentStates) else {
            let text: String
            switch state {
            case .notAuthenticated: text = "\(tagged.command.name) needs a login first"
            case .authenticated: text = CommandTable.allowedStates(tagged.command) == .selected
                ? "\(tagged.command.name) needs a selected mailbox" : "Already logged in"
            default: text = "\(tagged.command.name) is not valid in this state"
            }
            return error(tag: tag, .bad, text)
        }
        consecutiveErrors = 0
        var w = ResponseWriter()
        w.utf8Allowed = utf8Enabled
        switch tagged.command {
        case .capability:
            w.untagged("CAPABILITY " + capabilities.joined(separator: " "))
            w.tagged(tag, .ok, nil, "CAPABILITY completed")
        case .noop, .check:
            // Mailbox updates arrive through the server (it answers NOOP when a mailbox is selected).
            if case .selected = state { return .mailbox(tagged, early: []) }
            w.tagged(tag, .ok, nil, "\(tagged.command.name) completed")
        case .logout:
            state = .logout
            w.untaggedStatus(.bye, nil, "Courier-IMAP server shutting down")
            w.tagged(tag, .ok, nil, "LOGOUT completed")
            return .sendAndClose(w.bytes)
        case .starttls:
            guard configuration.tlsAvailable && !configuration.tlsActive else {
                return error(tag: tag, .bad, "STARTTLS is not available")
            }
            w.tagged(tag, .ok, nil, "Begin SSL/TLS negotiation now.")
            return .sendAndStartTLS(w.bytes)
        case .login(let user, let password):
            guard mayLogin else {
                return error(tag: tag, .no, .privacyRequired, configuration.tlsRequired ? "STARTTLS required" : "LOGIN is disabled without TLS")
            }
            return .login(tag: tag, user: user, password: password, early: [])
        case .authenticate(let mechanism, let initial):
            guard mayLogin else {
                return error(tag: tag, .no, .privacyRequired, "STARTTLS required")
            }
            guard configuration.authMechanisms.contains(mechanism) || (mechanism == "EXTERNAL" && externalAvailable) else {
                return error(tag: tag, .no, .cannot, "Unsupported authentication mechanism")
            }
            return .authenticate(tag: tag, mechanism: mechanism, initialResponse: initial, early: [])
        case .enable(let names):
            // RFC 5161 §3.1: ENABLED lists what this command newly enabled.
            var newly: [String] = []
            for name in names where Self.enableable[name] != nil && !enabled.contains(name) {
                enabled.insert(name)
                newly.append(Self.enableable[name] ?? name)
            }
            // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
            if enabled.contains("QRESYNC") { enabled.insert("CONDSTORE") }
            w.untagged("ENABLED" + newly.map { " " + $0 }.joined())
            // RFC 7162 §3.1: CONDSTORE enabled while a mailbox is selected: the server reports
            // its HIGHESTMODSEQ (the mail store does, then the tagged OK).
            if case .selected = state, newly.contains(where: { $0 == "CONDSTORE" || $0 == "QRESYNC" }) {
                return .mailbox(tagged, early: w.bytes)
            }
            w.tagged(tag, .ok, nil, "Options enabled")
        case .namespace:
            // spec/access.md §2.3: personal "INBOX.", the virtual shared folders under "#shared."
            // and the filesystem shared folders under "shared." (§1.7).
            w.untagged("NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\")(\"shared.\" \".\"))")
            w.tagged(tag, .ok, nil, "NAMESPACE completed.")
        case .id:
            // RFC 2971 §3.1.
            w.untagged("ID (\"name\" \"Courier for Swift\")")
            w.tagged(tag, .ok, nil, "ID completed")
        case .setQuota:
            w.tagged(tag, .no, .noPerm, "SETQUOTA No permission.")
        case .unselect, .close:
            return .mailbox(tagged, early: [])
        default:
            return .mailbox(tagged, early: [])
        }
        return .send(w.bytes)
    }

    /// What ENABLE can turn on (uppercased) and how ENABLED spells it: UTF8=ACCEPT (RFC 6855 §3),
    /// IMAP4rev2 (RFC 9051 §6.3.1: the rev2 behaviours for a server that offers both), CONDSTORE
    /// and QRESYNC (RFC 7162 §3.1, §3.2.3).
    static let enableable: [String: String] = ["UTF8=ACCEPT": "UTF8=ACCEPT", "IMAP4REV2": "IMAP4rev2",
                                               "CONDSTORE": "CONDSTORE", "QRESYNC": "QRESYNC"]

    // MARK: results reported by the server

    /// A LOGIN or AUTHENTICATE ended: `user` is the account on success, nil on failure.
    public mutating func loginFinished(tag: [UInt8], user: String?, failureText: String = "Login failed.") -> [UInt8] {
        var w = ResponseWriter()
        guard let user else {
            consecutiveErrors += 1
            w.tagged(tag, .no, .authenticationFailed, failureText)
            return w.bytes
        }
        state = .authenticated(user: user)
        w.tagged(tag, .ok, .capability(capabilities), "LOGIN Ok.")
        return w.bytes
    }

    /// The server selected (or failed to select) a mailbox.
    public mutating func selected(_ mailbox: MailboxName?, readOnly: Bool) {
        switch state {
        case .authenticated(let user), .selected(let user, _, _):
            if let mailbox {
                state = .selected(user: user, mailbox: mailbox, readOnly: readOnly)
            } else {
                state = .authenticated(user: user)
            }
        default: break
        }
    }

    /// TLS is up after STARTTLS (RFC 3501 §6.2.1: the client must ask for capabilities again).
    public mutating func tlsStarted() {
        configuration.tlsActive = true
    }

    public mutating func close() { state = .logout }

    public var user: String? {
        switch state {
        case .authenticated(let user), .selected(let user, _, _): user
        default: nil
        }
    }
}
