#if canImport(Glibc)
import Glibc
#endif
import MaildirCore

/// Group commit for directory fsyncs (DESIGN.md "Durability"): deliveries that linked a file
/// into the same directory while an fsync of it was running share the next fsync instead of
/// each paying their own (a directory fsync costs ~10× a file fsync here).
///
/// A caller asks only after its `link()` returned, and returns only after an fsync that
/// *started* after that; if that fsync fails, each caller it would have covered tries its own,
/// so an error is never hidden and nothing is acknowledged before it is durable. Blocks the
/// calling thread: for the delivery thread pool only, never an event loop.
final class DirectorySyncGroup: @unchecked Sendable {
    private struct Entry {
        /// Tickets handed out: one per caller that needs the directory durable.
        var requested: UInt64 = 0
        /// Every ticket up to this one is covered by a finished, successful fsync.
        var completed: UInt64 = 0
        var syncing = false
        var users = 0
    }

    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    // Guarded by `mutex`.
    private var entries: [String: Entry] = [:]
    private let sync: (String) throws(MaildirError) -> Void

    init(sync: @escaping (String) throws(MaildirError) -> Void = { path throws(MaildirError) in
        try Maildir.syncDirectory(path)
    }) {
        self.sync = sync
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Returns once `directory` was fsynced after this call began; throws that fsync's error.
    func syncDirectory(_ directory: String) throws(MaildirError) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        entries[directory, default: Entry()].requested += 1
        entries[directory, default: Entry()].users += 1
        let ticket = entries[directory, default: Entry()].requested
        defer {
            entries[directory, default: Entry()].users -= 1
            if entries[directory]?.users == 0 { entries[directory] = nil }
        }
        while (entries[directory]?.completed ?? 0) < ticket {
            if entries[directory]?.syncing == true {
                pthread_cond_wait(&condition, &mutex)
                continue
            }
            // This caller runs the fsync for every ticket handed out so far.
            let target = entries[directory, default: Entry()].requested
            entries[directory, default: Entry()].syncing = true
            pthread_mutex_unlock(&mutex)
            var failure: MaildirError?
            do throws(MaildirError) { try sync(directory) } catch { failure = error }
            pthread_mutex_lock(&mutex)
            entries[directory, default: Entry()].syncing = false
            if failure == nil {
                let done = entries[directory, default: Entry()].completed
                entries[directory, default: Entry()].completed = max(done, target)
            }
            pthread_cond_broadcast(&condition)
            if let failure { throw failure }
        }
    }
}
