import CourierDaemon
import Delivery
import MailConfig
import Synchronization

/// Routes RCPT addresses with Delivery's `AddressRouter` over the live configuration: the
/// router (its alias and account tables) is built once per configuration generation and
/// rebuilt after a reload (SIGHUP).
final class LiveRecipientLookup: RecipientLookup, Sendable {
    private let store: ConfigStore
    private let cache = Mutex<(generation: Int, router: AddressRouter)?>(nil)

    init(store: ConfigStore) {
        self.store = store
    }

    func route(_ address: String) async -> RecipientRoute {
        await router().route(address)
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
            let fresh = AddressRouter(site: store.current)
            cached = (generation, fresh)
            return fresh
        }
    }
}
