import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A process-wide memo of the last listing of each Maildir that POP3 opened: when `cur/` and
/// `courierpop3dsizelist` are exactly as they were (same inode, size and nanosecond mtime),
/// `new/` had nothing to move, and `cur/`'s stamp is older than two seconds (so a change in
/// the same clock tick cannot hide behind an equal mtime), a login reuses the listing
/// instead of reading 10,000 names and the size list again.
final class POP3OpenCache: Sendable {
    static let shared = POP3OpenCache()
    /// Messages remembered at most over all mailboxes (~150 bytes each); the least recently
    /// stored mailboxes are forgotten first.
    static let messageCapacity = 500_000
    /// Seconds a stamp must be old before it is trusted.
    static let settleSeconds = 2

    /// What identifies one state of a directory or file.
    struct Stamp: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int

        init?(_ path: String) {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            self.init(st)
        }

        init(_ st: stat) {
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            seconds = Int(st.st_mtim.tv_sec)
            nanoseconds = Int(st.st_mtim.tv_nsec)
        }

        func isSettled(now: Int) -> Bool { seconds + POP3OpenCache.settleSeconds < now }
    }

    struct Entry: Sendable {
        var cur: Stamp
        var sizeList: Stamp
        var listing: POP3Listing
        var sequence: Int
    }

    private let state = Mutex<(entries: [String: Entry], sequence: Int)>(([:], 0))

    /// The remembered listing of `path` if both stamps still match.
    func lookup(_ path: String, cur: Stamp, sizeList: Stamp) -> POP3Listing? {
        state.withLock { s in
            guard let e = s.entries[path], e.cur == cur, e.sizeList == sizeList else { return nil }
            return e.listing
        }
    }

    /// Remembers a listing when `cur/`'s stamp is settled; forgets `path` otherwise (or when a
    /// stamp is missing). The size list's stamp need not be settled: the caller passes the stamp
    /// of the very file the listing agrees with, and that file is only ever replaced through a
    /// rename (Courier's pop3d does the same), whose new file has another inode.
    func store(_ path: String, cur: Stamp?, sizeList: Stamp?, listing: POP3Listing, now: Int) {
        state.withLock { s in
            guard let cur, let sizeList, cur.isSettled(now: now) else {
                s.entries[path] = nil
                return
            }
            let messages = listing.messages
            guard messages.count <= Self.messageCapacity else {
                s.entries[path] = nil
                return
            }
            s.entries[path] = nil
            var total = s.entries.values.reduce(messages.count) { $0 + $1.listing.messages.count }
            if total > Self.messageCapacity {
                for (key, value) in s.entries.sorted(by: { $0.value.sequence < $1.value.sequence }) {
                    s.entries[key] = nil
                    total -= value.listing.messages.count
                    if total <= Self.messageCapacity { break }
                }
            }
            s.sequence += 1
            s.entries[path] = Entry(cur: cur, sizeList: sizeList, listing: listing, sequence: s.sequence)
        }
    }
}
