import MaildirCore
import NIOCore
import POP3

/// RETR and TOP of a message the kernel has cached, answered on the event loop: the file is
/// read through `CachedFileRead` (openat2 RESOLVE_CACHED, preadv2 RWF_NOWAIT), so nothing can
/// wait for the disk. A message of at most `POP3MessageFile.chunkSize` bytes then costs no
/// thread-pool job and no wakeup of another thread. Anything else (not cached, a symbolic link,
/// a file that is gone, shrank or is larger) answers nil and the caller takes the thread pool,
/// which also gives a missing file its `-ERR`.
enum POP3CachedMessageFile {
    /// The whole encoded response (`prefix`, the message, `suffix`, `.` CRLF), or nil.
    static func read(_ file: String, encoder: POP3MessageEncoder, prefix: [UInt8], suffix: [UInt8],
                     allocator: ByteBufferAllocator) -> POP3FileChunk? {
        guard let input = CachedFileRead.read(file, limit: POP3MessageFile.chunkSize) else { return nil }
        var encoder = encoder
        let bytes = input.withUnsafeBufferPointer {
            POP3MessageFile.encode($0, encoder: &encoder, prefix: prefix, suffix: suffix, last: true, allocator: allocator)
        }
        return POP3FileChunk(bytes: bytes, encoder: encoder, done: true, failed: false)
    }
}
