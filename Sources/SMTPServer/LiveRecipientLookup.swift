import CourierDaemon
import Delivery
import MailAuth
import MailConfig
import Synchronization

/// Routes RCPT addresses with Delivery's `AddressRouter` over the live configuration: the
/// router (its alias and account tables) is built once per configuration generation and
/// rebuilt after a reload (SIGHUP). Answers are remembered for a few seconds
/// (`RecipientRouteCache`), so a repeated recipient is answered on the event loop.
final class LiveRecipientLookup: RecipientLookup, Sendable {
    private let store: ConfigStore
    /// SMTP AUTH's live module chain, also asked for accounts userdb does not have.
    private let chain: AuthChain?
    private let cache = Mutex<(generation: Int, router: AddressRouter)?>(nil)
    private let answers = RecipientRouteCache()

    func cachedRoute(_ address: String) -> RecipientRoute? {
        answers.route(address, generation: store.generation)
    }

    init(store: ConfigStore, chain: AuthChain? = nil) {
        self.store = store
        self.chain = chain
    }

    func route(_ address: String) async -> RecipientRoute {
        let generation = store.generation
        let route = await router().route(address)
        answers.remember(route, for: address, generation: generation)
        return route
    }

    func expansion(of address: String) async -> [String] {
        await router().expansion(of: address)
    }

    func percentRelayTarget(_ address: String) -> String? {
        router().percentRelayTarget(address)
    }

    private func router() -> AddressRouter {
        let generation = store.generation
        return cache.withLock { cached in
            if let cached, cached.generation == generation { return cached.router }
            let site = store.current
            let fresh = AddressRouter(site: site, externalAccounts: AuthModuleAccounts.forSite(site, chain: chain))
            cached = (generation, fresh)
            return fresh
        }
    }
}
