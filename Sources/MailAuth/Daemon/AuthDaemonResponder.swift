import Logging
import MailAuthCore

/// Answers authdaemon requests from the module chain (spec/access.md §4.2), without sockets:
/// request in, reply bytes out. nil means "close without a reply", which Courier's clients
/// (and ours) read as a temporary failure.
public struct AuthDaemonResponder: Sendable {
    public let chain: AuthChain
    public let logger: Logger

    public init(chain: AuthChain, logger: Logger = Logger(label: "courier.authdaemon")) {
        self.chain = chain
        self.logger = logger
    }

    public func answer(_ request: AuthDaemonRequest) async -> [UInt8]? {
        switch request {
        case .pre(let module, let service, let user):
            return reply(await chainFor(module: module).lookup(user: user, service: service))
        case .auth(let service, let data):
            switch data {
            case .login(let user, let password):
                return reply(await chain.authenticate(.password(user: user, password: password), service: service,
                                                      costlyHashesInTask: true))
            case .cram(let algorithm, let user, let challenge, let response):
                return reply(await chain.authenticate(.cram(algorithm, user: user, challenge: challenge, response: response),
                                                      service: service, costlyHashesInTask: true))
            case .external(let user):
                // The client proved the identity (a TLS certificate): the account, as for PRE.
                return reply(await chain.lookup(user: user, service: service))
            case .unsupported(let type):
                logger.debug("AUTH: authtype \(type) not supported")
                return AuthDaemonReply.fail
            }
        case .passwd(let service, let user, let oldPassword, let newPassword):
            return await changePassword(service: service, user: user, old: oldPassword, new: newPassword)
        case .enumerate:
            var modules: [(name: String, accounts: [AuthDaemonEnumeratedAccount])] = []
            for module in chain.modules {
                let accounts = await module.enumerate() ?? []
                modules.append((module.name, accounts.map { account in
                    AuthDaemonEnumeratedAccount(
                        name: account.address, uid: account.uid ?? "", gid: account.gid ?? "", home: account.home,
                        maildir: account.maildir ?? "", options: account.options.text)
                }))
            }
            return AuthDaemonReply.enumeration(modules)
        }
    }

    /// `.` asks every module; a module's name asks only that one (nothing when there is none).
    private func chainFor(module: String) -> AuthChain {
        guard module != "." else { return chain }
        var restricted = chain
        restricted.modules = chain.modules.filter { $0.name == module }
        return restricted
    }

    private func reply(_ result: AuthResult) -> [UInt8]? {
        switch result {
        case .success(let account): return account.daemonAccount.encoded
        case .rejected: return AuthDaemonReply.fail
        case .temporaryFailure(let reason):
            logger.warning("temporary failure: \(reason)")
            return nil
        }
    }

    /// PASSWD: the old password must log in for `service`, then the module holding the
    /// account stores the new one.
    private func changePassword(service: String, user: String, old: [UInt8], new: [UInt8]) async -> [UInt8]? {
        guard !new.isEmpty, new.count <= AuthLimits.maxPasswordBytes else { return AuthDaemonReply.fail }
        switch await chain.authenticate(.password(user: user, password: old), service: service) {
        case .rejected: return AuthDaemonReply.fail
        case .temporaryFailure(let reason):
            logger.warning("PASSWD \(user): temporary failure: \(reason)")
            return nil
        case .success:
            do {
                if try await chain.changePassword(user: user, newPassword: new, service: service) {
                    logger.info("PASSWD: password of \(user) changed")
                    return AuthDaemonReply.ok
                }
            } catch {
                logger.error("PASSWD \(user): \(error)")
            }
            return AuthDaemonReply.fail
        }
    }
}
