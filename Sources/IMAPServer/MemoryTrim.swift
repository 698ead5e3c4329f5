#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Gives the heap's free pages back to the system a moment after a large operation (issue 6:
/// memory per idle session). A SELECT or rescan of a big folder builds tens of thousands of
/// short-lived strings and tables; once freed, glibc keeps their pages in its arenas (about
/// 8 MB after one rescan of a 10,000-message folder), which an idle server never needs.
/// `malloc_trim` returns them. Requests within `delay` of each other make one trim, run off
/// the event loops and the thread pool.
final class MemoryTrim: Sendable {
    static let shared = MemoryTrim()
    /// Operations on folders of at least this many messages ask for a trim.
    static let folderSize = 2_000
    /// The trim runs this long after the first request (the burst it belongs to is over by then).
    static let delay: Duration = .seconds(1)

    private let pending = Mutex(false)
    private let trim: (@convention(c) (Int) -> Int32)?

    init() {
        #if canImport(Glibc)
        // malloc_trim, found in the C library (glibc's <malloc.h> is not in the Glibc module).
        trim = dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }
        #else
        trim = nil
        #endif
    }

    /// Asks for a trim after an operation over `messages` messages.
    func request(messages: Int) {
        guard messages >= Self.folderSize, let trim else { return }
        let first = pending.withLock { p in
            defer { p = true }
            return !p
        }
        guard first else { return }
        Task.detached(priority: .background) { [self] in
            try? await Task.sleep(for: Self.delay)
            pending.withLock { $0 = false }
            _ = trim(0)
        }
    }
}
