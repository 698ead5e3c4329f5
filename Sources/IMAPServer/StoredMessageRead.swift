#if canImport(Glibc)
import Glibc
#endif
import MaildirCore

/// Reads a whole message file for FETCH: the size from `fstat`, then one `read` of all of it
/// (instead of 16 KB pieces), with `MessageFileAccess`'s rule for symbolic links.
enum StoredMessageRead {
    /// The file's bytes (at most `limit`); nil when it is absent, refused or unreadable.
    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = MessageFileAccess.open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= 0 else { return nil }
        // One byte more than the size: a file that grew since (never for a delivered message)
        // is read on to its end, in further reads.
        var bytes = [UInt8](repeating: 0, count: min(Int(st.st_size) + 1, limit))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            filled += n
            if filled == bytes.count && filled < limit {
                bytes.append(contentsOf: repeatElement(0, count: min(64 * 1024, limit - filled)))
            }
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}
