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
    /// `resolve`, with the external account modules asked after userdb (as Courier's local
    /// module asks authlib) for a name of ours that no userdb account has, before `@domain`
    /// aliases and the hosted catch-all; the same extension search as for userdb accounts.
    public func resolveThroughAuth(_ address: String) async -> AccountResolution {
        switch localPass(address) {
        case .decided(let answer): return .resolved(answer)
        case .external(let query, let externalAccounts): return await externalPass(query, externalAccounts)
        }
    }

    /// What userdb and the aliases decide alone, or the query the external modules must answer.
    enum LocalPass {
        case decided(ResolvedAddress)
        case external(AccountQuery, any ExternalAccountSource)
    }

    /// The part of `resolveThroughAuth` before the modules (no waiting, any thread).
    func localPass(_ address: String) -> LocalPass {
        guard let externalAccounts else { return .decided(resolve(address)) }
        switch firstPass(address) {
        case .decided(let answer): return .decided(answer)
        case .noUserdbAccount(let query): return .external(query, externalAccounts)
        }
    }

    /// The external modules' part of `resolveThroughAuth`, for a name userdb does not have.
    func externalPass(_ query: AccountQuery, _ externalAccounts: any ExternalAccountSource) async -> AccountResolution {
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
        return .resolved(lastPass(query))
    }

    /// `resolveThroughAuth` for a delivery thread (never an event loop or the cooperative
    /// pool): the lookup runs in a task while this thread waits. No answer within
    /// `timeoutSeconds` is a temporary failure (the delivery is deferred).
    public func resolveThroughAuthWaiting(_ address: String, timeoutSeconds: Int = 120) -> AccountResolution {
        let query: AccountQuery, externalAccounts: any ExternalAccountSource
        switch localPass(address) {
        case .decided(let answer): return .resolved(answer)
        case .external(let pending, let source): (query, externalAccounts) = (pending, source)
        }
        let answer = Mutex<AccountResolution?>(nil)
        let done = DispatchSemaphore(value: 0)
        let router = self
        let task = Task {
            let result = await router.externalPass(query, externalAccounts)
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
