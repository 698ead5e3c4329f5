#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A change counter per folder from Linux inotify, readable on an event loop: a session that
/// remembers a folder's generation knows, by comparing it with the current one, whether
/// anything that shows in IMAP (messages arriving, renamed for flags, removed; keywords; the
/// folder's ACL, uid list, the folder itself) changed since, without a `stat` or a thread hop.
///
/// No reader thread: whoever asks drains the (non-blocking) inotify descriptor first, under
/// the lock, so an event the kernel queued before the question is always counted (inotify
/// queues it inside the renaming or creating system call). `watch` registers a folder (path
/// lookups: thread pool only); `current` only reads the descriptor (never blocks).
final class FolderGenerations: Sendable {
    /// The process's registry; nil where inotify is not available (every caller then takes its
    /// ordinary path).
    static let shared: FolderGenerations? = FolderGenerations()
    /// At most this many folders are watched (four watches each); past it `watch` answers nil.
    static let folderLimit = 2048

    private struct Watched {
        var folder: String
        /// The folder's own directory (its file names are filtered), not new/, cur/ or keywords.
        var isFolderDirectory: Bool
    }

    private struct State {
        var byWatch: [Int32: [Watched]] = [:]
        var generations: [String: UInt64] = [:]
        /// Folders whose keyword directory has its watch (it may appear later).
        var keywordsWatched: Set<String> = []
        var counter: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)

        mutating func bump(_ folder: String) {
            guard generations[folder] != nil else { return }
            counter += 1
            generations[folder] = counter
        }
    }

    private let fd: Int32
    private let state = Mutex(State())
    static let directoryMask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE
        | IN_DELETE_SELF | IN_MOVE_SELF)

    private init?() {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 { return nil }
        self.fd = fd
    }

    /// Watches the folder at `directory` (thread pool: path lookups) and returns its current
    /// generation; call it before reading the folder, so that a change during the read shows
    /// as a new generation afterwards. Nil when the folder cannot be watched.
    func watch(_ directory: String) -> UInt64? {
        let known: Bool = state.withLock { s in
            drain(&s)
            return s.generations[directory] != nil && s.keywordsWatched.contains(directory)
        }
        if !known {
            // The watches are added outside the lock (path lookups may wait for the disk; the
            // event loops take this lock). Events from before the registration are lost, but
            // the caller reads the folder after this returns.
            var added: [(Int32, Watched)] = []
            for (sub, own) in [("", true), ("/new", false), ("/cur", false)] {
                let wd = inotify_add_watch(fd, directory + sub, Self.directoryMask)
                if wd < 0 { return nil }
                added.append((wd, Watched(folder: directory, isFolderDirectory: own)))
            }
            let keywords = inotify_add_watch(fd, directory + "/courierimapkeywords", Self.directoryMask)
            if keywords >= 0 { added.append((keywords, Watched(folder: directory, isFolderDirectory: false))) }
            let registered: Bool = state.withLock { s in
                drain(&s)
                if s.generations[directory] == nil {
                    guard s.generations.count < Self.folderLimit else { return false }
                    s.counter += 1
                    s.generations[directory] = s.counter
                }
                for (wd, watched) in added where !(s.byWatch[wd] ?? []).contains(where: { $0.folder == directory }) {
                    s.byWatch[wd, default: []].append(watched)
                }
                if keywords >= 0 { s.keywordsWatched.insert(directory) }
                return true
            }
            if !registered { return nil }
        }
        return current(directory)
    }

    /// The folder's generation after the events queued so far; nil when it is not watched.
    /// Never blocks (one non-blocking read of the inotify descriptor).
    func current(_ directory: String) -> UInt64? {
        state.withLock { s in
            drain(&s)
            return s.generations[directory]
        }
    }

    /// Reads every queued event and moves the generations of the folders they touch.
    private func drain(_ s: inout State) {
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
                    // Events were lost: every folder may have changed.
                    for folder in Array(s.generations.keys) { s.bump(folder) }
                    continue
                }
                guard let watched = s.byWatch[wd] else { continue }
                for w in watched where !(w.isFolderDirectory && ignorable) { s.bump(w.folder) }
                if mask & UInt32(IN_IGNORED) != 0 {
                    // The directory is gone: its folder must be watched again before it counts.
                    s.byWatch[wd] = nil
                    for w in watched {
                        s.generations[w.folder] = nil
                        s.keywordsWatched.remove(w.folder)
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
