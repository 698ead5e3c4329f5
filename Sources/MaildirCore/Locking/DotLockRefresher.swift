#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Keeps a held dot-lock fresh (maildrop's `LOCKREFRESH`, tools.md §1.8): while a long job runs
/// under the lock, a background thread sets the lock file's modification time every `interval`
/// seconds, so that other programs, which take a lock older than their timeout for a stale one,
/// leave it alone. `stop()` ends the thread and waits for it.
public final class DotLockRefresher: Sendable {
    private let state: RefresherState
    private let thread: pthread_t?

    /// Starts refreshing `lockPath` every `interval` seconds (no thread when `interval` < 1).
    public init(lockPath: String, interval: Int) {
        state = RefresherState(path: lockPath, interval: max(interval, 0))
        guard interval > 0 else {
            thread = nil
            return
        }
        var created = pthread_t()
        let context = Unmanaged.passRetained(state).toOpaque()
        if pthread_create(&created, nil, { raw in
            let state = Unmanaged<RefresherState>.fromOpaque(raw!).takeRetainedValue()
            state.run()
            return nil
        }, context) == 0 {
            thread = created
        } else {
            Unmanaged<RefresherState>.fromOpaque(context).release()
            thread = nil
        }
    }

    /// Stops refreshing and waits for the thread to end. Safe to call more than once.
    public func stop() {
        guard state.stopRequested.exchange(true, ordering: .sequentiallyConsistent) == false,
              let thread else { return }
        pthread_join(thread, nil)
    }

    deinit { stop() }
}

/// What the refresher's thread reads: the lock's path, the interval and the stop flag.
final class RefresherState: Sendable {
    let path: String
    let interval: Int
    let stopRequested = Atomic<Bool>(false)

    init(path: String, interval: Int) {
        self.path = path
        self.interval = interval
    }

    /// Touches the lock every `interval` seconds, looking at the stop flag every 50 ms.
    func run() {
        let step: UInt32 = 50_000
        let stepsPerInterval = interval * 20
        var steps = 0
        while !stopRequested.load(ordering: .sequentiallyConsistent) {
            usleep(step)
            steps += 1
            if steps >= stepsPerInterval {
                steps = 0
                // A nil time list sets both times to now; a lock someone removed stays removed.
                _ = utimensat(AT_FDCWD, path, nil, 0)
            }
        }
    }
}
