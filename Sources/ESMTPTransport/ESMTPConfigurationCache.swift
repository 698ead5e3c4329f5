#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// The esmtp control files (`esmtproutes`, `esmtpauthclient`, `courierd`, timeouts…) read at
/// most once a second, not once per message: an edit still applies within a second, as the
/// transport promised, without about a dozen file reads and parses per delivery.
final class ESMTPConfigurationCache: Sendable {
    private let state = Mutex<(config: ESMTPConfiguration, loadedAt: Int64)?>(nil)
    let etc: String
    let me: String

    init(etc: String, me: String) {
        self.etc = etc
        self.me = me
    }

    var current: ESMTPConfiguration {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        if let cached = state.withLock({ $0 }), nanoseconds - cached.loadedAt < 1_000_000_000 { return cached.config }
        let config = ESMTPConfiguration.load(etc: etc, me: me)
        state.withLock { $0 = (config, nanoseconds) }
        return config
    }
}
