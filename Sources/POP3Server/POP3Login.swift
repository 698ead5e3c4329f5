import Logging
import MailAuth
import MailAuthCore
import NIOCore
import NIOPosix
import NIOSSL
import POP3
#if canImport(Glibc)
import Glibc
#endif

/// Everything a connection needs that outlives it: shared by the channels of one listener.
struct POP3ConnectionEnvironment: Sendable {
    var settings: POP3Settings
    var hostName: String
    var chain: AuthChain
    var throttle: LoginThrottle
    var tlsContext: NIOSSLContext?
    var logger: Logger
    /// Courier: 60 s for the whole AUTHORIZATION phase, 300 s per command after login.
    var loginTimeout: TimeAmount = .seconds(60)
    var commandTimeout: TimeAmount = .seconds(300)
}

/// The outcome of one login attempt, ready for the session.
enum POP3LoginOutcome: Sendable {
    case loggedIn(user: String, maildir: String, listing: POP3Listing)
    case failed(temporary: Bool)
    case refused(String)
    case scram(ScramCredentials?)
}

/// courierpop3login's work after the client spoke (spec/access.md §3.1, §3.2): throttle,
/// check the credentials through the auth chain, enforce the account options, open the
/// Maildir (file work on the thread pool).
enum POP3Login {
    /// `DEFDOMAIN` appended to a login name without `@`.
    static func qualified(_ user: String, defaultDomain: String) -> String {
        guard !defaultDomain.isEmpty, !user.contains("@") else { return user }
        return user + (defaultDomain.hasPrefix("@") ? defaultDomain : "@" + defaultDomain)
    }

    static func run(_ request: POP3AuthRequest, environment: POP3ConnectionEnvironment, clientIP: String,
                    encrypted: Bool) async -> POP3LoginOutcome {
        let settings = environment.settings
        func qualified(_ user: String) -> String { Self.qualified(user, defaultDomain: settings.defaultDomain) }
        let service = settings.authService
        let chain = environment.chain
        let result: AuthResult
        let attempted: String
        switch request {
        case .scramCredentials(let algorithm, let user):
            switch await chain.scramCredentials(user: qualified(user), service: service, algorithm: algorithm) {
            case .success(let found): return .scram(found?.0)
            case .failure: return .failed(temporary: true)
            }
        case .password(let user, let password, _):
            attempted = qualified(user)
            try? await environment.throttle.wait(address: clientIP, user: attempted)
            result = await chain.authenticate(.password(user: attempted, password: password), service: service)
        case .cram(let algorithm, let user, let challenge, let response):
            attempted = qualified(user)
            try? await environment.throttle.wait(address: clientIP, user: attempted)
            result = await chain.authenticate(.cram(algorithm, user: attempted, challenge: challenge, response: response),
                                              service: service)
        case .verified(let user):
            attempted = qualified(user)
            result = await chain.lookup(user: attempted, service: service)
        case .apop(let user, let timestamp, let digest):
            attempted = qualified(user)
            try? await environment.throttle.wait(address: clientIP, user: attempted)
            result = await APOPVerifier.authenticate(user: attempted, timestamp: timestamp, digest: digest,
                                                     chain: chain, service: service)
        }
        let account: AuthAccount
        switch result {
        case .rejected:
            await environment.throttle.failed(address: clientIP, user: attempted)
            return .failed(temporary: false)
        case .temporaryFailure:
            return .failed(temporary: true)
        case .success(let found):
            account = found
        }
        await environment.throttle.succeeded(address: clientIP, user: attempted)
        switch account.options.refusal(service: "pop3", encrypted: encrypted) {
        case .disabled: return .refused(POP3Replies.accountDisabled)
        case .insecure: return .refused(POP3Replies.insecureDisabled)
        case nil: break
        }
        let stored = account.maildir ?? ""
        let maildir = stored.isEmpty ? account.home + "/" + settings.maildirPath : stored
        let home = account.home
        let now = Int64(time(nil))
        let mailbox = POP3Mailbox(path: maildir)
        let pool = NIOThreadPool.singleton
        do {
            let first = try await pool.runIfActive { () -> OpeningStart in
                var st = stat()
                if !home.isEmpty, stat(home, &st) == 0, st.st_mode & S_ISVTX != 0 {
                    return .refused(POP3Replies.accountLocked)
                }
                do {
                    return .step(try mailbox.beginOpen(now: now))
                } catch {
                    return .refused(POP3Replies.noCurDirectory)
                }
            }
            var step: POP3OpenStep
            switch first {
            case .refused(let text): return .refused(text)
            case .step(let started): step = started
            }
            // Another session holds the folder lock: wait on a timer, not on a pool thread (many
            // waiting logins must not take every thread), and try again; POP3Mailbox gives up
            // after its lock timeout and goes on without the lock, as Courier's pop3d (which
            // takes none) would. A dropped connection cancels the task: the sleep throws and the
            // login ends here.
            var delay = Self.firstLockRetry
            while case .waitingForLock(let pending) = step {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, Self.lastLockRetry)
                step = try await pool.runIfActive { mailbox.continueOpen(pending) }
            }
            guard case .opened(let listing) = step else { return .failed(temporary: true) }
            return .loggedIn(user: account.address, maildir: maildir, listing: listing)
        } catch {
            return .failed(temporary: true)
        }
    }

    /// The first wait for a busy folder lock; each next one doubles, up to `lastLockRetry`.
    static let firstLockRetry = Duration.milliseconds(10)
    static let lastLockRetry = Duration.milliseconds(250)

    /// The first file work of a login: refused, or the first step of opening the maildrop.
    private enum OpeningStart: Sendable {
        case refused(String)
        case step(POP3OpenStep)
    }
}
