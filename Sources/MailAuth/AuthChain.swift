import Logging
import MailAuthCore

/// The credentials a client presented.
public enum AuthCredentials: Sendable {
    /// A plain password (LOGIN command, SASL PLAIN/LOGIN, authtest).
    case password(user: String, password: [UInt8])
    /// A CRAM answer: the challenge we sent and the client's hex digest.
    case cram(CramAlgorithm, user: String, challenge: [UInt8], response: String)

    var user: String {
        switch self {
        case .password(let user, _), .cram(_, let user, _, _): user
        }
    }
}

/// authdaemond's job in one type: ask each module of `authmodulelist` in order
/// (spec/access.md §4.1). A module that does not know the user, or whose stored secrets do
/// not match, passes to the next; a module that cannot answer (`TEMPFAIL`) stops the chain with
/// a temporary failure. `DEFAULTOPTIONS` fill in options the account does not set.
///
/// A chain made from an `AuthChainSource` follows the daemon's reloads: every call uses the
/// source's current chain. Setting a property makes it a fixed copy of the current one.
public struct AuthChain: Sendable {
    private var fixedModules: [any AuthModule]
    private var fixedDefaultOptions: AccountOptions
    private var fixedLogger: Logger
    private var source: AuthChainSource?

    public var modules: [any AuthModule] {
        get { source?.chain.modules ?? fixedModules }
        set { detach(); fixedModules = newValue }
    }

    public var defaultOptions: AccountOptions {
        get { source?.chain.defaultOptions ?? fixedDefaultOptions }
        set { detach(); fixedDefaultOptions = newValue }
    }

    public var logger: Logger {
        get { source?.chain.logger ?? fixedLogger }
        set { detach(); fixedLogger = newValue }
    }

    public init(modules: [any AuthModule], defaultOptions: AccountOptions = AccountOptions(),
                logger: Logger = Logger(label: "courier.auth")) {
        fixedModules = modules
        fixedDefaultOptions = defaultOptions
        fixedLogger = logger
        source = nil
    }

    /// A chain that is always `source`'s current one.
    public init(following source: AuthChainSource) {
        let current = source.chain
        self.init(modules: current.modules, defaultOptions: current.defaultOptions, logger: current.logger)
        self.source = source
    }

    private mutating func detach() {
        guard let source else { return }
        let current = source.chain
        fixedModules = current.modules
        fixedDefaultOptions = current.defaultOptions
        fixedLogger = current.logger
        self.source = nil
    }

    /// False when the next call may first read files: a chain that follows an `AuthChainSource`
    /// rebuilds itself after a reload (configuration read, the userdb maybe recompiled), and a
    /// module may still have to load its data (`AuthModule.isReady`). A thread that must not wait
    /// (the authdaemon socket's loop) calls only a ready chain.
    public var isReady: Bool {
        if let source, !source.isCurrent { return false }
        return modules.allSatisfy(\.isReady)
    }

    /// Checks credentials for `service`. `costlyHashesInTask`: a caller running on a thread that
    /// must not be held up (the authdaemon socket's loop) has a crypt(3) hash (`$1$`, `$6$`,
    /// `$y$`, DES) checked in a separate task; digests and CRAM are checked where it runs.
    public func authenticate(_ credentials: AuthCredentials, service: String, costlyHashesInTask: Bool = false) async -> AuthResult {
        if let source { return await source.chain.authenticate(credentials, service: service, costlyHashesInTask: costlyHashesInTask) }
        let user = credentials.user
        guard AuthLimits.isAcceptableName(user) else { return .rejected }
        for module in modules {
            switch await module.lookup(user: user, service: service) {
            case .temporaryFailure(let reason):
                logger.error("\(module.name): TEMPFAIL - no more modules will be tried: \(reason)")
                return .temporaryFailure(reason)
            case .notFound:
                continue
            case .found(let stored):
                let account: AuthAccount?
                if costlyHashesInTask, Self.isCostly(credentials, stored) {
                    account = await Task.detached { Self.check(credentials, against: stored) }.value
                } else {
                    account = Self.check(credentials, against: stored)
                }
                if let account {
                    return .success(finish(account))
                }
            }
        }
        logger.debug("FAIL, all modules rejected", metadata: ["user": "\(user)", "service": "\(service)"])
        return .rejected
    }

    /// PRE: the account without checking a password (delivery, authtest without password).
    public func lookup(user: String, service: String) async -> AuthResult {
        if let source { return await source.chain.lookup(user: user, service: service) }
        guard AuthLimits.isAcceptableName(user) else { return .rejected }
        for module in modules {
            switch await module.lookup(user: user, service: service) {
            case .temporaryFailure(let reason): return .temporaryFailure(reason)
            case .notFound: continue
            case .found(let stored): return .success(finish(stored.account))
            }
        }
        return .rejected
    }

    /// The SCRAM verifier of `user`: stored, or derived from a clear password.
    public func scramCredentials(user: String, service: String, algorithm: ScramAlgorithm) async -> Result<(ScramCredentials, AuthAccount)?, AuthLookupFailure> {
        if let source { return await source.chain.scramCredentials(user: user, service: service, algorithm: algorithm) }
        guard AuthLimits.isAcceptableName(user) else { return .success(nil) }
        for module in modules {
            switch await module.lookup(user: user, service: service) {
            case .temporaryFailure(let reason): return .failure(AuthLookupFailure(reason: reason))
            case .notFound: continue
            case .found(let stored):
                if let credentials = stored.scramCredentials[algorithm] {
                    return .success((credentials, finish(stored.account)))
                }
                if let clear = stored.clearPassword {
                    // A stable salt per user, so repeated logins see the same one.
                    let salt = Array(SHA256.hash(Array(("courier-scram:" + user).utf8)).prefix(16))
                    let derived = ScramCredentials(password: Array(clear.utf8), salt: salt,
                                                   iterations: ScramCredentials.defaultIterations, algorithm: algorithm)
                    return .success((derived, finish(stored.account)))
                }
            }
        }
        return .success(nil)
    }

    private func finish(_ account: AuthAccount) -> AuthAccount {
        var result = account
        result.options = account.options.merged(withDefaults: defaultOptions)
        return result
    }

    /// Whether checking `credentials` against `stored` means a crypt(3) hash.
    static func isCostly(_ credentials: AuthCredentials, _ stored: StoredAccount) -> Bool {
        guard case .password = credentials, let crypted = stored.cryptedPassword, !crypted.isEmpty else { return false }
        return !PasswordVerifier.isCheap(crypted)
    }

    /// The account when `credentials` match what the module stored, else nil.
    static func check(_ credentials: AuthCredentials, against stored: StoredAccount) -> AuthAccount? {
        switch credentials {
        case .password(_, let password):
            var matched = false
            if let crypted = stored.cryptedPassword, !crypted.isEmpty {
                matched = PasswordVerifier.verify(password, against: crypted)
            } else if let clear = stored.clearPassword, !clear.isEmpty {
                matched = password.count <= AuthLimits.maxPasswordBytes && ConstantTime.equal(password, Array(clear.utf8))
            }
            guard matched else { return nil }
            var account = stored.account
            account.clearPassword = String(decoding: password, as: UTF8.self)
            return account
        case .cram(let algorithm, _, let challenge, let response):
            let expected: [UInt8]?
            if let state = stored.hmacStates[algorithm] {
                expected = algorithm.hmac(challenge: challenge, storedState: state)
            } else if let clear = stored.clearPassword, !clear.isEmpty {
                expected = algorithm.hmac(challenge: challenge, password: Array(clear.utf8))
            } else {
                expected = nil
            }
            guard let expected, CramAlgorithm.matches(response: response, expected: expected) else { return nil }
            var account = stored.account
            account.cryptedPassword = nil   // CRAM replies carry no PASSWD/PASSWD2 (§4.2)
            account.clearPassword = nil
            return account
        }
    }
}

/// A module could not answer (temporary failure).
public struct AuthLookupFailure: Error, Equatable, Sendable {
    public var reason: String
}
