import Dispatch
import Synchronization

/// What an account module outside the userdb text (authlib's module chain: authpgsql) says
/// about an account name.
public enum ExternalAccountAnswer: Sendable, Equatable {
    case found(LocalAccount)
    case notFound
    /// The module cannot answer now (database down): RCPT gets 451, delivery is deferred.
    case temporaryFailure(String)
}

/// Accounts that live only behind the auth modules (authmodulelist after authuserdb), asked
/// as Courier's local module asks authlib: with service "courier".
public protocol ExternalAccountSource: Sendable {
    func account(named name: String) async -> ExternalAccountAnswer
}

/// An address resolved through the auth modules: the answer, or a lookup that could not run.
public enum AccountResolution: Sendable, Equatable {
    case resolved(ResolvedAddress)
    case temporaryFailure(String)
}

extension AddressRouter {
    /// `resolve`, then, for an unknown name in one of our domains, the external account
    /// modules (with the same extension search as userdb accounts).
    public func resolveThroughAuth(_ address: String) async -> AccountResolution {
        let first = resolve(address)
        guard first == .unknown, externalAccounts != nil else { return .resolved(first) }
        return await lookUpExternally(address)
    }

    /// The external half of `resolveThroughAuth`, for an address `resolve` called unknown.
    func lookUpExternally(_ address: String) async -> AccountResolution {
        guard let externalAccounts, let query = accountQuery(address) else { return .resolved(.unknown) }
        for (name, ext) in Self.accountCandidates(query.local) {
            switch await externalAccounts.account(named: query.hostedDomain.map { name + "@" + $0 } ?? name) {
            case .temporaryFailure(let reason):
                return .temporaryFailure(reason)
            case .notFound:
                continue
            case .found(let account):
                if ext.isEmpty || DotCourierFile.find(home: account.home, extension: ext) != nil {
                    return .resolved(.account(account, extension: ext, recipient: query.recipient))
                }
            }
        }
        return .resolved(.unknown)
    }

    /// `resolveThroughAuth` for a delivery thread (never an event loop or the cooperative
    /// pool): the lookup runs in a task while this thread waits. No answer within
    /// `timeoutSeconds` is a temporary failure (the delivery is deferred).
    public func resolveThroughAuthWaiting(_ address: String, timeoutSeconds: Int = 120) -> AccountResolution {
        let first = resolve(address)
        guard first == .unknown, externalAccounts != nil else { return .resolved(first) }
        let answer = Mutex<AccountResolution?>(nil)
        let done = DispatchSemaphore(value: 0)
        let router = self
        let task = Task {
            let result = await router.lookUpExternally(address)
            answer.withLock { $0 = result }
            done.signal()
        }
        if done.wait(timeout: .now() + .seconds(timeoutSeconds)) == .timedOut {
            task.cancel()
            return .temporaryFailure("no answer from the account modules within \(timeoutSeconds) s")
        }
        return answer.withLock { $0 } ?? .temporaryFailure("account lookup ended without an answer")
    }
}
