import Delivery
import NIOCore
import Synchronization

/// Recent RCPT routing answers, so that a recipient seen a moment ago is answered on the
/// event loop without a task hop (the lookup itself may read `/etc/passwd` or stat
/// `.courier` files, so it never runs there). An answer lives `lifetime` (5 s) and only for
/// the configuration generation it was made under: a reload (SIGHUP after editing aliases,
/// locals, userdb…) is seen at once; a new system account or `.courier-EXT` file within
/// seconds. Temporary failures are never kept. At most `capacity` answers; when full the
/// cache starts over.
final class RecipientRouteCache: Sendable {
    private struct Entry {
        var route: RecipientRoute
        var generation: Int
        var expires: UInt64
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: UInt64
    let capacity: Int

    init(lifetimeNanoseconds: UInt64 = 5_000_000_000, capacity: Int = 10_000) {
        self.lifetime = lifetimeNanoseconds
        self.capacity = capacity
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    func route(_ address: String, generation: Int) -> RecipientRoute? {
        let now = Self.now()
        return entries.withLock { entries in
            guard let entry = entries[address] else { return nil }
            guard entry.generation == generation, entry.expires > now else {
                entries[address] = nil
                return nil
            }
            return entry.route
        }
    }

    func remember(_ route: RecipientRoute, for address: String, generation: Int) {
        if case .temporaryFailure = route { return }
        let expires = Self.now() + lifetime
        entries.withLock { entries in
            if entries.count >= capacity && entries[address] == nil { entries.removeAll(keepingCapacity: true) }
            entries[address] = Entry(route: route, generation: generation, expires: expires)
        }
    }
}
