import CNonBlockingFile
import NIOCore
import POP3
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// RETR and TOP of a message the kernel has cached, answered on the event loop: the file is
/// opened only if every path component is in the lookup cache (openat2 RESOLVE_CACHED) and read
/// only if every byte is in the page cache (preadv2 RWF_NOWAIT), so neither call can wait for
/// the disk. A message of at most `POP3MessageFile.chunkSize` bytes then costs no thread-pool
/// job and no wakeup of another thread. Anything else (not cached, a symbolic link, a file that
/// is gone, shrank or is larger) answers nil and the caller takes the thread pool, which also
/// gives a missing file its `-ERR`.
enum POP3CachedMessageFile {
    /// Off after the first ENOSYS/EINVAL/EOPNOTSUPP (old kernel, file system without NOWAIT).
    private static let supported = Atomic<Bool>(true)

    /// The whole encoded response (`prefix`, the message, `suffix`, `.` CRLF), or nil.
    static func read(_ file: String, encoder: POP3MessageEncoder, prefix: [UInt8], suffix: [UInt8],
                     allocator: ByteBufferAllocator) -> POP3FileChunk? {
        guard supported.load(ordering: .relaxed) else { return nil }
        let fd = cnbf_open_cached(file)
        if fd < 0 {
            if errno == ENOSYS || errno == EINVAL { supported.store(false, ordering: .relaxed) }
            return nil
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(st.st_size)
        guard size <= POP3MessageFile.chunkSize else { return nil }
        var failed = false
        let input = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            while count < size {
                let n = cnbf_pread_nowait(fd, base + count, size - count, off_t(count))
                if n > 0 {
                    count += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    if n < 0 && (errno == EOPNOTSUPP || errno == EINVAL) { supported.store(false, ordering: .relaxed) }
                    failed = true   // EAGAIN (not cached), an error, or the file shrank
                    return
                }
            }
        }
        if failed { return nil }
        var encoder = encoder
        let bytes = input.withUnsafeBufferPointer {
            POP3MessageFile.encode($0, encoder: &encoder, prefix: prefix, suffix: suffix, last: true, allocator: allocator)
        }
        return POP3FileChunk(bytes: bytes, encoder: encoder, done: true, failed: false)
    }
}
