#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings for the long-running daemon, applied once at the start of
/// `courier start` (Docs/courier-command.md, "Memory").
///
/// - Arenas: glibc gives each thread that meets a locked arena a new one, up to eight per
///   core; every arena keeps the memory it once used. An idle IMAP session's PSS was half
///   arenas (Docs/benchmarks.md), so the daemon caps them at `defaultArenaMax`.
/// - Large blocks: glibc raises its mmap threshold each time a mapped block is freed, after
///   which large arrays (a 10,000-message folder list, a refresh's scan) come from the heap
///   and their pages stay with the process after `free`. A fixed threshold keeps such blocks
///   mapped, so freeing one gives its pages back to the system.
///
/// Each setting is left alone when its glibc environment variable (`MALLOC_ARENA_MAX`,
/// `MALLOC_MMAP_THRESHOLD_`) is set: glibc has read that one already, and it wins.
enum MallocTuning {
    /// Arenas when `MALLOC_ARENA_MAX` is not set.
    static let defaultArenaMax: Int32 = 2
    /// Blocks of at least this many bytes are mapped on their own (glibc's initial threshold,
    /// made fixed).
    static let mmapThreshold: Int32 = 128 << 10

    /// `mallopt`'s parameter numbers (glibc's <malloc.h>, which the Glibc module does not import).
    static let arenaMaxParameter: Int32 = -8, mmapThresholdParameter: Int32 = -3

    /// What `apply` sets, given the glibc variables the environment has.
    static func settings(environment: [String: String]) -> [(option: Int32, value: Int32)] {
        var out: [(option: Int32, value: Int32)] = []
        if environment["MALLOC_ARENA_MAX"] == nil { out.append((arenaMaxParameter, defaultArenaMax)) }
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { out.append((mmapThresholdParameter, mmapThreshold)) }
        return out
    }

    /// Applies `settings` for the process's environment.
    static func apply() {
        #if canImport(Glibc)
        var environment: [String: String] = [:]
        for name in ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"] where getenv(name) != nil {
            environment[name] = String(cString: getenv(name))
        }
        // mallopt, found in the C library itself (nil handle: RTLD_DEFAULT).
        guard let symbol = dlsym(nil, "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        for setting in settings(environment: environment) { _ = mallopt(setting.option, setting.value) }
        #endif
    }
}
