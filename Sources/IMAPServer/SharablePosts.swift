#if canImport(Glibc)
import Glibc
#endif
import MaildirCore

/// `courierswiftposted`: the base names of the messages one user added to a world-writable
/// sharable folder (one a line, in the user's local copy), which under the sticky bit are the
/// only ones that user may expunge (MailboxSession+SharableExpunge).
///
/// The file lies in the user's Maildir, so it is treated as untrusted input: it is read up to
/// `readLimit` bytes, lines that cannot be a Maildir base name (too long, control bytes, `/`,
/// `:`, a leading dot) are ignored, and it is never followed through a symbolic link. It stays
/// bounded: whenever an append takes it past a power of two from `pruneFrom` on, it is
/// rewritten with only the names whose files still exist in the sharable folder (and without
/// junk). Appends, rewrites and reads hold `flock` on the file, so two sessions of the user
/// neither lose a name nor read half a rewrite.
enum SharablePosts {
    static let fileName = "courierswiftposted"
    /// Bytes read at most; a longer file is read in part (and pruned at the next append).
    static let readLimit = 4 << 20
    /// The size from which appends prune (at every power of two reached).
    static let pruneFrom = 64 << 10
    /// The longest base name accepted (Maildir names are far shorter; NAME_MAX bounds them).
    static let maximumName = 255

    /// The names in `bytes`, junk lines left out; a last line without its line feed is taken
    /// only when `complete` (the whole file was read).
    static func parse(_ bytes: ArraySlice<UInt8>, complete: Bool = true) -> [String] {
        var names: [String] = []
        var lines = bytes.split(separator: 10, omittingEmptySubsequences: true)
        if !complete, bytes.last != 10, !lines.isEmpty { lines.removeLast() }
        for line in lines where isBaseName(line) {
            names.append(String(decoding: line, as: UTF8.self))
        }
        return names
    }

    /// A plausible Maildir base name: printable ASCII without `/` or `:` (the info separator),
    /// not starting with a dot, at most `maximumName` bytes.
    static func isBaseName<C: Collection>(_ name: C) -> Bool where C.Element == UInt8 {
        guard let first = name.first, first != UInt8(ascii: "."), name.count <= maximumName else { return false }
        return name.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") }
    }

    /// The names listed in the local copy at `folderPath`.
    static func read(folderPath: String) -> Set<String> {
        let fd = open(folderPath + "/" + fileName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        guard regularFile(fd) else { return [] }
        _ = flock(fd, LOCK_SH)
        let (bytes, complete) = readBounded(fd)
        return Set(parse(bytes[...], complete: complete))
    }

    /// Adds `names` (added to the sharable folder `remote` just now); prunes when the file
    /// grows past a power of two from `pruneFrom` on.
    static func append(_ names: [String], folderPath: String, remote: String?) {
        let names = names.filter { isBaseName($0.utf8) }
        guard !names.isEmpty else { return }
        let path = folderPath + "/" + fileName
        // Not through a symbolic link another program put there (it could point at any file
        // this process may write); O_NONBLOCK: a FIFO put there must not stall the thread.
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard regularFile(fd) else { return }
        _ = flock(fd, LOCK_EX)
        let before = size(fd)
        _ = try? SystemCall.writeAll(fd, Array(names.map { $0 + "\n" }.joined().utf8), path: path)
        let after = size(fd)
        if let remote, crossesPruningPoint(before, after) {
            prune(fd, path: path, remote: remote)
        }
    }

    /// Whether growing from `before` to `after` bytes reaches a power of two >= `pruneFrom`.
    static func crossesPruningPoint(_ before: Int, _ after: Int) -> Bool {
        guard after >= pruneFrom else { return false }
        var point = pruneFrom
        while point <= after {
            if before < point { return true }
            guard point <= Int.max / 2 else { return false }
            point *= 2
        }
        return false
    }

    /// Rewrites the open, locked list with the names whose files are still in `remote`'s cur/
    /// or new/ (in place: the lock stays on the same file).
    static func prune(_ fd: Int32, path: String, remote: String) {
        let (bytes, complete) = readBounded(fd)
        // A read cut short by an error must not become the new list (it would forget posts);
        // one stopped at the limit keeps what the server reads anyway.
        guard complete || bytes.count == readLimit else { return }
        let present = baseNames(in: remote + "/cur").union(baseNames(in: remote + "/new"))
        var seen = Set<String>()
        var kept: [UInt8] = []
        for name in parse(bytes[...], complete: complete) where present.contains(name) && seen.insert(name).inserted {
            kept += Array(name.utf8) + [10]
        }
        guard ftruncate(fd, 0) == 0 else { return }
        _ = try? SystemCall.writeAll(fd, kept, path: path) // O_APPEND: written from offset 0
    }

    /// The base names of the files in `directory` (SystemCall's listing reads each name in
    /// place: copying readdir's whole `d_name` field can read past the end of its buffer).
    static func baseNames(in directory: String) -> Set<String> {
        var names = Set<String>()
        for name in SystemCall.names(in: directory) where !name.hasPrefix(".") {
            names.insert(MessageFileName(name).baseName)
        }
        return names
    }

    static func regularFile(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }

    static func size(_ fd: Int32) -> Int {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Up to `readLimit` bytes from the start of the file, and whether that was all of it.
    static func readBounded(_ fd: Int32) -> ([UInt8], Bool) {
        var bytes = [UInt8](repeating: 0, count: min(max(size(fd), 0), readLimit))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return pread(fd, base + got, raw.count - got, off_t(got))
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        bytes.removeSubrange(got...)
        return (bytes, size(fd) <= got)
    }
}
