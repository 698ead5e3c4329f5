import MailAuth
import MailAuthCore
import POP3

/// Checks an APOP digest against the clear password of the first module that knows the user
/// (authdaemond's order: a module that does not know the user passes to the next).
enum APOPVerifier {
    static func authenticate(user: String, timestamp: String, digest: String, chain: AuthChain,
                             service: String) async -> AuthResult {
        for module in chain.modules {
            switch await module.lookup(user: user, service: service) {
            case .temporaryFailure(let reason):
                return .temporaryFailure(reason)
            case .notFound:
                continue
            case .found(let stored):
                guard let clear = stored.clearPassword, !clear.isEmpty,
                      APOPDigest.matches(digest, timestamp: timestamp, password: clear) else { continue }
                var account = stored.account
                account.options = account.options.merged(withDefaults: chain.defaultOptions)
                account.cryptedPassword = nil
                return .success(account)
            }
        }
        return .rejected
    }
}
