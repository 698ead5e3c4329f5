#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where one makemime level writes: a buffered descriptor writer that remembers the
/// errno of the first failed write (Courier reports it once, at the end, as
/// `makemime: <error>`).
final class MakemimeOutput {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let capacity = 64 * 1024
    /// errno of the first failed write; later writes are dropped.
    private(set) var writeError: Int32?
    /// Set for an output that refuses every write (see `init`).
    private let failsWithError: Int32?

    /// A writer on `fd`; with `failsWith` every write fails with that errno (Courier's
    /// output `&0` is its read-only stdin stream).
    init(fd: Int32, ownsDescriptor: Bool, failsWith: Int32? = nil) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.failsWithError = failsWith
        buffer.reserveCapacity(capacity)
    }

    deinit {
        if ownsDescriptor { _ = Glibc.close(fd) }
    }

    func write(_ byte: UInt8) {
        buffer.append(byte)
        if buffer.count >= capacity { flush() }
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    func write(_ bytes: ArraySlice<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { flush() }
    }

    /// Writes out the buffer; false once any write has failed.
    @discardableResult
    func flush() -> Bool {
        if writeError != nil {
            buffer.removeAll(keepingCapacity: true)
            return false
        }
        if buffer.isEmpty { return true }
        if let code = failsWithError {
            writeError = code
            buffer.removeAll(keepingCapacity: true)
            return false
        }
        var offset = 0
        let failure: Int32? = buffer.withUnsafeBytes { raw -> Int32? in
            guard let base = raw.baseAddress else { return nil }
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { writeError = failure }
        return failure == nil
    }
}
