#if canImport(Glibc)
import Glibc
#endif
import CNonBlockingFile
import Synchronization

/// Reads a whole small file only when that cannot wait for the disk: every path component in
/// the kernel's lookup cache (openat2 RESOLVE_CACHED) and every byte in the page cache
/// (RWF_NOWAIT). This is what lets an event loop answer a body FETCH of a message that was read
/// recently without a thread hop (IMAP's body FETCH, POP3's RETR and TOP); anything else (not
/// cached, a symbolic link, a file that is gone or larger than `limit`) answers nil and the
/// caller takes the thread pool.
public enum CachedFileRead {
    /// Off after the first ENOSYS/EINVAL from openat2 (a kernel without RESOLVE_CACHED).
    private static let supported = Atomic<Bool>(true)

    /// The whole file, or nil when reading it could wait (or it is not a regular file of at
    /// most `limit` bytes).
    public static func read(_ path: String, limit: Int) -> [UInt8]? {
        guard supported.load(ordering: .relaxed) else { return nil }
        let fd = cnbf_open_cached(path)
        if fd < 0 {
            if errno == ENOSYS || errno == EINVAL { supported.store(false, ordering: .relaxed) }
            return nil
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(st.st_size)
        guard size <= limit else { return nil }
        if size == 0 { return [] }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            while count < size {
                let n = cnbf_pread_nowait(fd, base + count, size - count, off_t(count))
                if n > 0 {
                    count += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    // EOPNOTSUPP: this file's file system has no NOWAIT reads; others may,
                    // so only this read goes to the pool.
                    failed = true   // EAGAIN (not cached), an error, or the file shrank
                    return
                }
            }
        }
        return failed ? nil : bytes
    }
}
