#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore
import Synchronization

/// Change notification for a mailbox, for IMAP IDLE (RFC 2177) and NOOP-less polling:
/// `events` yields (coalesced) whenever the mailbox's `new/`, `cur/` or keywords may have
/// changed — a delivery, a flag rename, an expunge, by any program. False alarms are possible;
/// the consumer calls `Mailbox.refresh()` to learn what changed. Ending the iteration (or
/// dropping the stream) stops the watch.
public struct MailboxWatch: Sendable {
    /// The events; each element means "rescan".
    public let events: AsyncStream<Void>
    /// True when backed by Linux inotify (events within milliseconds); false when inotify is
    /// unavailable and the stream ticks every poll interval instead (Courier's
    /// IMAP_IDLE_TIMEOUT fallback, access.md §1.12).
    public let isRealtime: Bool
}

extension MailStore {
    /// Watches a mailbox (see `MailboxWatch`). `pollInterval` is used only without inotify.
    public func watch(_ mailbox: MailboxName, pollInterval: Duration = .seconds(60)) -> MailboxWatch {
        let dir = path(of: mailbox)
        var paths = ["new", "cur"].map { (dir + "/" + $0, MaildirWatchEvents.mask(for: $0)) }
        if SystemCall.isDirectory(dir + "/courierimapkeywords") {
            paths.append((dir + "/courierimapkeywords", MaildirWatchEvents.mask(for: "courierimapkeywords")))
        }
        if let hub = InotifyHub.shared, let stream = hub.subscribe(paths: paths) {
            return MailboxWatch(events: stream, isRealtime: true)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                continuation.yield(())
            }
        }
        continuation.onTermination = { _ in ticker.cancel() }
        return MailboxWatch(events: stream, isRealtime: false)
    }
}

extension Mailbox {
    /// Watches this mailbox (see `MailStore.watch`).
    public nonisolated func watch(pollInterval: Duration = .seconds(60)) -> MailboxWatch {
        store.watch(name, pollInterval: pollInterval)
    }
}

/// The inotify events that show a change in one directory of a Maildir folder, for every watcher
/// of the process (IDLE's `MailStore.watch`, the IMAP server's folder generations).
public enum MaildirWatchEvents {
    /// Entries created, removed or renamed.
    public static let entries = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)

    /// What to watch in `subdirectory` of a folder ("" for the folder itself): its entries, and
    /// files written in place (a writer that skips tmp/, an appended log) everywhere but `cur/`.
    /// Every program puts a message into cur/ by a rename and changes its flags by another, so
    /// nothing is written in place there; and a mask with an event on a directory's files
    /// (`IN_CLOSE_WRITE`) makes the kernel mark every cached entry of the directory when the
    /// watch is added (8 ms for 100,000 messages, on a restarted server's first SELECT) and take
    /// a slower path on every later open and close of a message.
    public static func mask(for subdirectory: String) -> UInt32 {
        subdirectory == "cur" ? entries : entries | UInt32(IN_CLOSE_WRITE)
    }
}

/// One inotify instance and one reader thread for the whole process; every watch is a
/// subscription on it (inotify gives the same watch descriptor for the same directory, so
/// sessions on one mailbox share it).
final class InotifyHub: Sendable {
    /// The process's hub, nil where inotify cannot be initialised (then watches poll).
    static let shared: InotifyHub? = InotifyHub()

    private struct Subscriber {
        var continuation: AsyncStream<Void>.Continuation
        var watches: [Int32]
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var byWatch: [Int32: Set<UInt64>] = [:]
        var nextToken: UInt64 = 1
    }

    private let fd: Int32
    private let state = Mutex(State())

    private init?() {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        if fd < 0 { return nil }
        self.fd = fd
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let hub = Unmanaged<InotifyHub>.fromOpaque(raw).takeRetainedValue()
            hub.readLoop()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        if started != 0 {
            close(fd)
            return nil
        }
        pthread_detach(thread)
    }

    /// Subscribes to changes in these directories; nil if none could be watched.
    func subscribe(paths: [(path: String, mask: UInt32)]) -> AsyncStream<Void>? {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let token: UInt64? = state.withLock { s in
            var watches: [Int32] = []
            for (p, mask) in paths {
                let wd = inotify_add_watch(fd, p, mask)
                if wd >= 0 { watches.append(wd) }
            }
            if watches.isEmpty { return nil }
            let token = s.nextToken
            s.nextToken += 1
            s.subscribers[token] = Subscriber(continuation: continuation, watches: watches)
            for wd in watches { s.byWatch[wd, default: []].insert(token) }
            return token
        }
        guard let token else { return nil }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(token) }
        return stream
    }

    private func unsubscribe(_ token: UInt64) {
        state.withLock { s in
            guard let sub = s.subscribers.removeValue(forKey: token) else { return }
            for wd in sub.watches {
                s.byWatch[wd]?.remove(token)
                if s.byWatch[wd]?.isEmpty == true {
                    s.byWatch[wd] = nil
                    inotify_rm_watch(fd, wd)
                }
            }
        }
    }

    /// The reader thread: blocking reads of inotify events, fanned out to the subscribers of
    /// each watch descriptor.
    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let headerSize = MemoryLayout<inotify_event>.size
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            var touched = Set<Int32>()
            var ignored = Set<Int32>()
            var overflow = false
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + headerSize <= n {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let len = raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflow = true }
                    if mask & UInt32(IN_IGNORED) != 0 { ignored.insert(wd) }
                    touched.insert(wd)
                    offset += headerSize + Int(len)
                }
            }
            state.withLock { s in
                var tokens = Set<UInt64>()
                if overflow { tokens = Set(s.subscribers.keys) }
                for wd in touched { tokens.formUnion(s.byWatch[wd] ?? []) }
                for t in tokens { s.subscribers[t]?.continuation.yield(()) }
                for wd in ignored { s.byWatch[wd] = nil }   // the directory is gone
            }
        }
    }
}
