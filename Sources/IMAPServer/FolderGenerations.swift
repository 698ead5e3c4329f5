#if canImport(Glibc)
import Glibc
#endif
import Maildir
import Synchronization

/// A change counter per folder from Linux inotify, readable on an event loop: a session that
/// remembers a folder's generation knows, by comparing it with the current one, whether
/// anything that shows in IMAP (messages arriving, renamed for flags, removed; keywords; the
/// folder's ACL, uid list, the folder itself) changed since, without a `stat` or a thread hop.
///
/// No reader thread: a question first polls the (non-blocking) inotify descriptor, and when
/// events are queued drains them under the lock, so an event the kernel queued before the
/// question is always counted (inotify queues it inside the renaming or creating system call).
/// `watch` registers a folder (path lookups: thread pool only); `isCurrent` never blocks and
/// takes no lock unless events are queued or another thread is counting some.
///
/// Folders are counted by their users: every generation `watch` hands out holds a lease on its
/// folder, given back when the last copy of it goes (ARC). A folder nobody holds a generation of
/// stays watched (a session opening it again finds it warm) until the registry is full; then
/// the idle folders' watches are removed to make room, and folders in use keep theirs.
final class FolderGenerations: Sendable {
    /// The process's registry; nil where inotify is not available (every caller then takes its
    /// ordinary path).
    static let shared: FolderGenerations? = FolderGenerations()
    /// At most this many folders are watched (four watches each); past it, when no watched
    /// folder is idle, `watch` answers nil.
    static let folderLimit = 2048
    let folderLimit: Int

    private struct Watched {
        var counter: FolderCounter
        /// The folder's own directory (its file names are filtered), not new/, cur/ or keywords.
        var isFolderDirectory: Bool
    }

    private struct State {
        var byWatch: [Int32: [Watched]] = [:]
        var folders: [String: FolderCounter] = [:]
        /// Folders whose keyword directory has its watch (it may appear later).
        var keywordsWatched: Set<String> = []
        /// Watches no folder uses any more (its folder was moved or deleted) but the kernel still
        /// has; removed by the next `watch` (see there).
        var orphans: [Int32] = []
        /// Every generation handed out comes from here: a folder watched again never repeats one.
        var counter: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)

        mutating func bump(_ folder: FolderCounter) {
            counter += 1
            folder.value.store(counter, ordering: .sequentiallyConsistent)
        }

        /// Stops counting for `folder` (its directory, or one under it, was moved away or
        /// removed): its counter moves, so every generation read from it is stale, its path is
        /// watched afresh by the next `watch`, and the watches it alone used become orphans.
        mutating func forget(_ folder: FolderCounter) {
            bump(folder)
            for (directory, known) in folders where known === folder {
                folders[directory] = nil
                keywordsWatched.remove(directory)
            }
            for (wd, list) in byWatch where list.contains(where: { $0.counter === folder }) {
                let rest = list.filter { $0.counter !== folder }
                byWatch[wd] = rest.isEmpty ? nil : rest
                if rest.isEmpty { orphans.append(wd) }
            }
        }
    }

    /// The inotify descriptor (one per process).
    let fd: Int32
    private let state = Mutex(State())
    /// Held by `watch` from its first look to its registration (thread pool only; the event
    /// loops never take it), so that no watch is removed while another `watch` is adding it.
    private let registering = Mutex(())
    /// 1 while a thread has read events it has not counted yet (see `isCurrent`).
    private let draining = Atomic<Int>(0)
    /// `MaildirWatchEvents` for `subdirectory`, plus the directory itself moved or removed.
    static func mask(for subdirectory: String) -> UInt32 {
        MaildirWatchEvents.mask(for: subdirectory) | UInt32(IN_DELETE_SELF | IN_MOVE_SELF)
    }

    /// A registry of its own (the process uses `shared`; tests use small limits).
    init?(folderLimit: Int = FolderGenerations.folderLimit) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 { return nil }
        self.fd = fd
        self.folderLimit = folderLimit
    }

    deinit { close(fd) }

    /// How many folders are watched now.
    var watchedFolderCount: Int { state.withLock { $0.folders.count } }

    /// Watches the folder at `directory` (thread pool: path lookups) and returns its current
    /// generation; call it before reading the folder, so that a change during the read shows
    /// as a new generation afterwards. Nil when the folder cannot be watched (past
    /// `folderLimit`, or the kernel's watch limit: then no watch of this call is left behind).
    func watch(_ directory: String) -> FolderGeneration? {
        registering.withLock { _ in register(directory) }
    }

    private func register(_ directory: String) -> FolderGeneration? {
        let (known, complete, full) = state.withLock { s in
            drain(&s)
            if s.folders[directory] == nil && s.folders.count >= folderLimit { evictIdle(&s) }
            return (s.folders[directory], s.keywordsWatched.contains(directory), s.folders.count >= folderLimit)
        }
        if let known, complete { return current(known) }
        if known == nil && full { return nil }
        // The watches are added outside the state lock (path lookups may wait for the disk; the
        // event loops take that lock). Events from before the registration are not counted, but
        // the caller reads the folder after this returns. A known folder lacks only its keyword
        // directory's watch.
        var added: [(Int32, Bool)] = []
        if known == nil {
            for (sub, own) in [("", true), ("new", false), ("cur", false)] {
                let wd = inotify_add_watch(fd, sub.isEmpty ? directory : directory + "/" + sub, Self.mask(for: sub))
                if wd < 0 {
                    state.withLock { s in release(added.map(\.0), &s) }
                    return nil
                }
                added.append((wd, own))
            }
        }
        let keywords = inotify_add_watch(fd, directory + "/courierimapkeywords", Self.mask(for: "courierimapkeywords"))
        if keywords >= 0 { added.append((keywords, false)) }
        let registered: FolderCounter? = state.withLock { s in
            drain(&s)
            defer {
                release(s.orphans, &s)
                s.orphans = []
            }
            let folder: FolderCounter
            if let now = s.folders[directory] {
                folder = now
            } else {
                // Forgotten since the first look (moved or removed): the next watch starts over.
                guard known == nil else {
                    release(added.map(\.0), &s)
                    return nil
                }
                s.counter += 1
                folder = FolderCounter(s.counter)
                s.folders[directory] = folder
            }
            for (wd, own) in added where !(s.byWatch[wd] ?? []).contains(where: { $0.counter === folder }) {
                s.byWatch[wd, default: []].append(Watched(counter: folder, isFolderDirectory: own))
            }
            if keywords >= 0 { s.keywordsWatched.insert(directory) }
            return folder
        }
        return registered.map(current)
    }

    /// Makes room: the folders nobody holds a generation of are no longer watched. The caller
    /// holds `registering`, the only path that hands out leases, so a folder found idle here
    /// stays idle until this returns.
    private func evictIdle(_ s: inout State) {
        let idle = Set(s.folders.values.filter { $0.users.load(ordering: .sequentiallyConsistent) == 0 }.map(ObjectIdentifier.init))
        guard !idle.isEmpty else { return }
        for (directory, folder) in s.folders where idle.contains(ObjectIdentifier(folder)) {
            s.folders[directory] = nil
            s.keywordsWatched.remove(directory)
        }
        for (wd, list) in s.byWatch {
            let rest = list.filter { !idle.contains(ObjectIdentifier($0.counter)) }
            guard rest.count != list.count else { continue }
            s.byWatch[wd] = rest.isEmpty ? nil : rest
            if rest.isEmpty { s.orphans.append(wd) }
        }
        release(s.orphans, &s)
        s.orphans = []
    }

    /// Removes the kernel's watches among `wds` that no folder uses (the caller holds
    /// `registering`, so no other `watch` is about to use one of them).
    private func release(_ wds: [Int32], _ s: inout State) {
        for wd in wds where s.byWatch[wd] == nil { _ = inotify_rm_watch(fd, wd) }
    }

    /// The folder's generation now (after the events queued so far). Private: leases are made
    /// only under `registering` (see `evictIdle`).
    private func current(_ folder: FolderCounter) -> FolderGeneration {
        settle()
        return FolderGeneration(counter: folder, value: folder.value.load(ordering: .sequentiallyConsistent),
                                lease: FolderLease(folder))
    }

    /// Whether nothing changed in the folder since `generation` was read. Never blocks: a poll
    /// of the inotify descriptor and an atomic load (events queued: counted first, under the lock).
    func isCurrent(_ generation: FolderGeneration) -> Bool {
        settle()
        return generation.counter.value.load(ordering: .sequentiallyConsistent) == generation.value
    }

    /// Makes every event queued before this call count. Polled first: nothing queued means every
    /// earlier event was read already, by a thread that raised `draining` before its read and
    /// lowers it only after counting, so `draining == 0` afterwards means they are all counted.
    private func settle() {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let queued = poll(&pollfd, 1, 0) != 0
        if queued || draining.load(ordering: .sequentiallyConsistent) != 0 {
            state.withLock { drain(&$0) }
        }
    }

    /// Reads every queued event and moves the generations of the folders they touch.
    private func drain(_ s: inout State) {
        draining.store(1, ordering: .sequentiallyConsistent)
        defer { draining.store(0, ordering: .sequentiallyConsistent) }
        let headerSize = MemoryLayout<inotify_event>.size
        while true {
            let n = s.buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return   // EAGAIN: nothing more queued
            }
            var offset = 0
            while offset + headerSize <= n {
                let (wd, mask, length, ignorable) = s.buffer.withUnsafeBytes { raw in
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + headerSize
                    let name = UnsafeRawBufferPointer(rebasing: raw[nameStart..<min(nameStart + length, n)])
                    return (wd, mask, length, Self.isIgnorable(name))
                }
                offset += headerSize + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    // Events were lost: every folder may have changed, and a lost move or
                    // removal would leave a path counted on a directory that is no longer
                    // there. Everything is forgotten and watched afresh by the next `watch`.
                    for folder in s.folders.values { s.bump(folder) }
                    s.orphans += s.byWatch.keys
                    s.byWatch = [:]
                    s.folders = [:]
                    s.keywordsWatched = []
                    continue
                }
                guard let watched = s.byWatch[wd] else { continue }
                for w in watched where !(w.isFolderDirectory && ignorable) { s.bump(w.counter) }
                if mask & UInt32(IN_IGNORED | IN_MOVE_SELF) != 0 {
                    // The directory is gone, or now elsewhere (a RENAME): its folders are
                    // forgotten and must be watched again at their paths (a folder created or
                    // renamed to the old name is another directory).
                    for w in watched { s.forget(w.counter) }
                    if mask & UInt32(IN_IGNORED) != 0 {
                        s.byWatch[wd] = nil
                        s.orphans.removeAll { $0 == wd }   // the kernel dropped it already
                    }
                }
            }
        }
    }

    /// Names in a folder's own directory that change nothing a client sees: this server's
    /// caches (`courierswift…`, rewritten through tmp/) and subfolders (`.Name`, under INBOX).
    private static func isIgnorable(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let first = name.first, first != 0 else { return false }
        if first == UInt8(ascii: ".") { return true }
        let prefix: StaticString = "courierswift"
        guard name.count >= prefix.utf8CodeUnitCount else { return false }
        return prefix.withUTF8Buffer { p in p.indices.allSatisfy { name[$0] == p[$0] } }
    }
}

/// One watched folder's change counter, shared by every session that reads it.
final class FolderCounter: Sendable {
    let value: Atomic<UInt64>
    /// Live leases (generations handed out and still held somewhere).
    let users = Atomic<Int>(0)

    init(_ value: UInt64) {
        self.value = Atomic(value)
    }
}

/// A use of a watched folder: counted while it lives (see `FolderGenerations`).
final class FolderLease: Sendable {
    let folder: FolderCounter

    init(_ folder: FolderCounter) {
        self.folder = folder
        folder.users.wrappingAdd(1, ordering: .sequentiallyConsistent)
    }

    deinit { folder.users.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
}

/// A folder's generation as read at one moment (see `FolderGenerations.isCurrent`); while
/// a copy of it is held, the folder keeps its watch.
struct FolderGeneration: Equatable, Sendable {
    let counter: FolderCounter
    let value: UInt64
    let lease: FolderLease

    static func == (a: FolderGeneration, b: FolderGeneration) -> Bool {
        a.counter === b.counter && a.value == b.value
    }
}
