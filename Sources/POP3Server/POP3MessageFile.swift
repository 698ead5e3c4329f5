import MaildirCore
import NIOCore
import POP3
#if canImport(Glibc)
import Glibc
#endif

/// What one thread-pool job of RETR or TOP read from the message file and encoded for the
/// wire (RFC 1939 §7: dot-stuffed, CRLF line ends).
struct POP3FileChunk: Sendable {
    /// The wire bytes: the reply line in front of the first chunk; `.` CRLF after the last.
    var bytes: ByteBuffer
    /// The encoder's state after this chunk (the next chunk continues from it).
    var encoder: POP3MessageEncoder
    /// The response is complete and the file is closed.
    var done: Bool
    /// Reading failed part-way: the file is closed and the connection must be dropped (a
    /// short message followed by `.` would look complete to the client; Courier exits too).
    var failed: Bool
}

/// The blocking file side of RETR and TOP, run on the thread pool: a message of up to
/// `chunkSize` bytes is opened, read, encoded and closed in one job, so it costs the event
/// loop one hop and one write; larger ones continue chunk by chunk.
enum POP3MessageFile {
    /// Bytes read from the file per job.
    /// 128 KB: the messages of a typical maildrop (most under 100 KB) go out in one job and one
    /// write.
    static let chunkSize = 128 * 1024

    /// The open descriptor of `file`, or nil when the message is gone.
    static func open(_ file: String) -> Int32? {
        while true {
            // a user's symlink to a file only the server may read is refused (MessageFileAccess)
            let fd = MessageFileAccess.open(file)
            if fd >= 0 { return fd }
            if errno != EINTR { return nil }
        }
    }

    /// Reads up to `chunkSize` bytes (until the buffer is full or the file ends) and encodes
    /// them after `prefix`. At the end of the file, or once TOP has its lines, the response is
    /// finished (`suffix`, a Unicode wrapper's footer, encoded after the file) and `fd` closed.
    static func readChunk(fd: Int32, encoder: POP3MessageEncoder, prefix: [UInt8], suffix: [UInt8] = [],
                          allocator: ByteBufferAllocator) -> POP3FileChunk {
        var encoder = encoder
        var filled = 0
        var ended = false
        var failed = false
        // Not zero-filled first: only the bytes read are used.
        let input = [UInt8](unsafeUninitializedCapacity: chunkSize) { raw, count in
            guard let base = raw.baseAddress else { return }
            while filled < raw.count {
                let n = Glibc.read(fd, base + filled, raw.count - filled)
                if n > 0 {
                    filled += n
                } else if n == 0 {
                    ended = true
                    break
                } else if errno != EINTR {
                    failed = true
                    break
                }
            }
            count = filled
        }
        let atEnd = ended || failed
        let bytes = input.withUnsafeBufferPointer {
            encode(UnsafeBufferPointer(rebasing: $0[0..<filled]), encoder: &encoder, prefix: prefix, suffix: suffix,
                   last: atEnd, failed: failed, allocator: allocator)
        }
        let done = atEnd || encoder.isComplete
        if done { close(fd) }
        return POP3FileChunk(bytes: bytes, encoder: encoder, done: done, failed: failed)
    }

    /// `prefix`, then `input` through the wire encoder; when the response ends here (the file's
    /// last bytes, or TOP has its lines) and nothing failed, `suffix` and the final `.` CRLF.
    static func encode(_ input: UnsafeBufferPointer<UInt8>, encoder: inout POP3MessageEncoder, prefix: [UInt8],
                       suffix: [UInt8], last: Bool, failed: Bool = false, allocator: ByteBufferAllocator) -> ByteBuffer {
        // RETR: the message is encoded straight into the buffer that goes to the socket, sized
        // exactly beforehand (no growing, no second copy).
        if let count = encoder.encodedCountIfWhole(input) {
            var tail: [UInt8] = []
            var bytes = allocator.buffer(capacity: prefix.count + count + suffix.count * 2 + 8)
            bytes.writeBytes(prefix)
            if count > 0 {
                bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                    encoder.encodeWhole(input, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            if last && !failed {
                if !suffix.isEmpty { encoder.encode(suffix, into: &tail) }
                encoder.finish(into: &tail)
                bytes.writeBytes(tail)
            }
            return bytes
        }
        var output = prefix
        output.reserveCapacity(prefix.count + input.count + input.count / 16 + suffix.count + 8)
        encoder.encode(input, into: &output)
        if (last || encoder.isComplete) && !failed {
            if !suffix.isEmpty { encoder.encode(suffix, into: &output) }
            encoder.finish(into: &output)
        }
        var bytes = allocator.buffer(capacity: output.count)
        bytes.writeBytes(output)
        return bytes
    }
}
