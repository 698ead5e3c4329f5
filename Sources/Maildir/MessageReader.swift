#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// An open message file, read in chunks on the store's thread pool (a message is never loaded
/// whole unless the caller asks for it). The bytes are as stored: LF line ends; IMAP converts
/// to CRLF on the wire. Close it when done (it is closed on deinit too).
public final class MessageReader: Sendable {
    /// The file size in bytes (LF line ends).
    public let size: Int64
    private let descriptor: Mutex<Int32>
    private let executor: StoreExecutor

    init(fd: Int32, size: Int64, executor: StoreExecutor) {
        self.descriptor = Mutex(fd)
        self.size = size
        self.executor = executor
    }

    deinit { close() }

    /// Up to `maxLength` bytes from `offset` (fewer at the end of the file, empty past it).
    public func read(offset: Int64, maxLength: Int) async throws(MailStoreError) -> [UInt8] {
        try await executor.run { () throws(MailStoreError) -> [UInt8] in try self.readNow(offset: offset, maxLength: maxLength) }
    }

    /// The whole file (for small messages or headers-only callers, bounded by `limit`).
    public func readAll(limit: Int = 64 * 1024 * 1024) async throws(MailStoreError) -> [UInt8] {
        try await read(offset: 0, maxLength: Int(min(size, Int64(limit))))
    }

    /// The message's summary made from the file in pieces (`MessageSummary.parse(fileDescriptor:)`):
    /// for messages too large to read whole. Nil when the file cannot be read.
    func summarizeNow() -> MessageSummary? {
        descriptor.withLock { fd in fd >= 0 ? MessageSummary.parse(fileDescriptor: fd) : nil }
    }

    func readNow(offset: Int64, maxLength: Int) throws(MailStoreError) -> [UInt8] {
        guard maxLength > 0, offset >= 0 else { return [] }
        let result: Result<[UInt8], MailStoreError> = descriptor.withLock { fd in
            guard fd >= 0 else { return .failure(.storage(.system(operation: "read", path: "message", errno: EBADF))) }
            var out = [UInt8](repeating: 0, count: maxLength)
            var filled = 0
            while filled < maxLength {
                let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, maxLength - filled, off_t(offset) + off_t(filled)) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return .failure(.storage(.system(operation: "read", path: "message", errno: errno))) }
                if n == 0 { break }
                filled += n
            }
            out.removeLast(maxLength - filled)
            return .success(out)
        }
        return try result.get()
    }

    /// The file in chunks of `chunkSize` bytes.
    public func chunks(chunkSize: Int = 65536) -> Chunks { Chunks(reader: self, chunkSize: max(1, chunkSize)) }

    /// Closes the file; later reads fail.
    public func close() {
        descriptor.withLock { fd in
            if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        }
    }

    /// The chunks of a message as an async sequence.
    public struct Chunks: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        let reader: MessageReader
        let chunkSize: Int

        public struct AsyncIterator: AsyncIteratorProtocol {
            let reader: MessageReader
            let chunkSize: Int
            var offset: Int64 = 0

            public mutating func next() async throws -> [UInt8]? {
                let chunk = try await reader.read(offset: offset, maxLength: chunkSize)
                if chunk.isEmpty { return nil }
                offset += Int64(chunk.count)
                return chunk
            }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader, chunkSize: chunkSize) }
    }
}
