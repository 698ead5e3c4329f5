#if canImport(Glibc)
import Glibc
#endif
import MailConfig
import Synchronization

/// The backscatter suppression list on disk (`var/track/backscatter`, spec/mta.md §4.10):
/// shared by the daemon's SMTP listeners (which refuse listed RCPTs), its queue runner (which
/// records delivery results) and `courier show` / `courier clear` in other processes.
///
/// Every change is a read-modify-write under an exclusive lock (`var/track/backscatter.lock`,
/// flock) that writes a new file and renames it over the old one (atomic: a reader sees the
/// old list or the new one). Readers keep the list in memory and read the file again when the
/// configuration generation changes (`courier clear` sends the daemon SIGHUP) or after
/// `refreshInterval` seconds, and only when its inode, size or mtime changed. The methods
/// block (file I/O): call them off the event loops, except `cached`, which only reads memory.
public final class SuppressionStore: Sendable {
    public let path: String
    let lockPath: String
    let window: Int64
    let capacity: Int
    let clock: @Sendable () -> Int64
    static let refreshInterval: Int64 = 5

    private struct Cache {
        var list: SuppressionList
        var identity: [Int] = []
        var generation = 0
        /// When the file was last looked at; nil: never.
        var checkedAt: Int64?
    }
    private let cache: Mutex<Cache>

    /// One store per file in a process, so the queue runner's writes are seen by the SMTP
    /// listeners at once.
    private static let shared = Mutex<[String: SuppressionStore]>([:])

    /// The store of a site (`var/track/backscatter`), shared within the process.
    public static func shared(for root: ConfigRoot) -> SuppressionStore {
        let path = root.path + "/var/track/backscatter"
        return shared.withLock { stores in
            if let store = stores[path] { return store }
            let store = SuppressionStore(path: path)
            stores[path] = store
            return store
        }
    }

    public init(path: String, window: Int64 = SuppressionList.defaultWindow, capacity: Int = SuppressionList.defaultCapacity,
                clock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.path = path
        lockPath = path + ".lock"
        self.window = window
        self.capacity = capacity
        self.clock = clock
        cache = Mutex(Cache(list: SuppressionList(window: window, capacity: capacity)))
    }

    /// The list as last read, when that is recent enough to answer from memory; nil: call
    /// `current()` (off the event loop). `generation`: the configuration's (a reload after
    /// `courier clear` makes the cached list stale).
    public func cached(generation: Int = 0) -> SuppressionList? {
        let now = clock()
        return cache.withLock { cache in
            guard cache.generation == generation, let checkedAt = cache.checkedAt,
                  now >= checkedAt, now < checkedAt + Self.refreshInterval else { return nil }
            return cache.list
        }
    }

    /// The list, read again from the file if it changed. Blocks.
    public func current(generation: Int = 0) -> SuppressionList {
        let now = clock()
        let identity = Self.identity(path)
        if let list = cache.withLock({ cache -> SuppressionList? in
            guard cache.identity == identity, !identity.isEmpty || cache.list.entries.isEmpty else { return nil }
            cache.generation = generation
            cache.checkedAt = now
            return cache.list
        }) { return list }
        let list = read(now: now)
        cache.withLock { $0 = Cache(list: list, identity: identity, generation: generation, checkedAt: now) }
        return list
    }

    /// Records delivery results of a tracked message's recipients. Blocks.
    public func record(_ results: [(address: String, result: SuppressionList.Result)]) throws {
        guard !results.isEmpty else { return }
        let now = clock()
        try update { list in
            for (address, result) in results { list.record(address, result, now: now) }
        }
    }

    /// Applies `change` to the list on disk, under the lock; returns what `change` returned.
    /// Blocks. Nothing is written when the list did not change.
    @discardableResult
    public func update<T>(_ change: (inout SuppressionList) -> T) throws -> T {
        let directory = Self.parent(path)
        try FileIO.makeDirectories(directory)
        // The superuser (`courier clear` run by root, or a daemon started as root) leaves the
        // files to the owner of `var/`, so a daemon running as the mail user can still read them.
        let owner = geteuid() == 0 ? Self.owner(of: Self.parent(directory)) : nil
        if let owner { _ = chown(directory, owner.uid, owner.gid) }
        let lock = try QueueLock.acquire(lockPath, wait: true)
        defer { close(lock) }
        if let owner { _ = fchown(lock, owner.uid, owner.gid) }
        let now = clock()
        let old = read(now: now)
        var list = old
        let answer = change(&list)
        list.trim(now: now)
        if list != old {
            try write(list.encoded(now: now), directory: directory, owner: owner)
        }
        let identity = Self.identity(path)
        cache.withLock { $0 = Cache(list: list, identity: identity, generation: $0.generation, checkedAt: now) }
        return answer
    }

    private func read(now: Int64) -> SuppressionList {
        // A missing or unreadable file is an empty list; the file is small (bounded by capacity).
        let bytes = (try? FileIO.readAll(path)) ?? []
        return SuppressionList.decode(bytes, now: now, window: window, capacity: capacity)
    }

    private func write(_ bytes: [UInt8], directory: String, owner: (uid: uid_t, gid: gid_t)?) throws {
        let temporary = path + ".new"
        FileIO.remove(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        if fd < 0 { throw FileIO.fail("open", temporary) }
        if let owner { _ = fchown(fd, owner.uid, owner.gid) }
        do {
            try FileIO.writeAll(fd, bytes, at: 0, path: temporary)
            try FileIO.dataSync(fd, path: temporary)
        } catch {
            close(fd)
            FileIO.remove(temporary)
            throw error
        }
        close(fd)
        try FileIO.rename(temporary, path)
        try? FileIO.syncDirectory(directory)
    }

    static func parent(_ path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    static func owner(of path: String) -> (uid: uid_t, gid: gid_t)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_uid, info.st_gid)
    }

    /// Inode, size and modification time; empty when the file does not exist.
    static func identity(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [Int(info.st_ino), Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }
}
