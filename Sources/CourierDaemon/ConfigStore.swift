import MailConfig
import Synchronization

/// The running site's configuration: services read `current` when they need a value and may
/// follow `updates()` to react to a reload. `reload()` (SIGHUP) re-reads and validates the
/// whole root; a bad config leaves the old one in place.
public final class ConfigStore: Sendable {
    private struct State {
        var config: SiteConfig
        var generation = 0
        var subscribers: [Int: AsyncStream<SiteConfig>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state: Mutex<State>
    private let load: @Sendable (ConfigRoot) throws(ConfigLoadError) -> SiteConfig

    /// `load` reads a root (tests substitute their own).
    public init(
        _ config: SiteConfig,
        load: @escaping @Sendable (ConfigRoot) throws(ConfigLoadError) -> SiteConfig = { root throws(ConfigLoadError) in
            try ConfigLoader.load(root)
        }
    ) {
        state = Mutex(State(config: config))
        self.load = load
    }

    public var current: SiteConfig {
        state.withLock { $0.config }
    }

    /// How many successful reloads happened.
    public var generation: Int {
        state.withLock { $0.generation }
    }

    /// Re-reads the root. On success the new config replaces the old and subscribers get it.
    public func reload() -> Result<SiteConfig, ConfigLoadError> {
        let root = current.root
        let fresh: SiteConfig
        do {
            fresh = try load(root)
        } catch {
            return .failure(error)
        }
        let subscribers = state.withLock { state in
            state.config = fresh
            state.generation += 1
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(fresh) }
        return .success(fresh)
    }

    /// Every config that replaces the current one from now on.
    public func updates() -> AsyncStream<SiteConfig> {
        let (stream, continuation) = AsyncStream.makeStream(of: SiteConfig.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}
