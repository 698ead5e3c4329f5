#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer to a file descriptor, for tools that stream bytes to stdout or a file.
/// No Foundation: the lean tools must start fast.
public final class FDOutput {
    public let fd: Int32
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Set once a write failed (EPIPE, ENOSPC...); later writes are dropped.
    public private(set) var failed = false

    public init(fd: Int32, capacity: Int = 64 * 1024) {
        self.fd = fd
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    public func write<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    /// The common case without generics: called from another module, the generic `write` runs
    /// unspecialised and looks up `Array`'s Sequence witnesses at run time (about 55,000
    /// instructions of demangling on first use, 8% of a `reformime -i` run).
    public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    public func write(_ byte: UInt8) {
        buffer.append(byte)
        if buffer.count >= capacity { flush() }
    }

    public func write(_ string: String) {
        write(string.utf8)
    }

    public func write(_ bytes: ArraySlice<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    /// Writes everything buffered; returns false if the descriptor refused data.
    @discardableResult
    public func flush() -> Bool {
        if buffer.isEmpty { return !failed }
        if failed { buffer.removeAll(keepingCapacity: true); return false }
        var offset = 0
        let ok: Bool = buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        buffer.removeAll(keepingCapacity: true)
        if !ok { failed = true }
        return ok
    }

    deinit { flush() }
}

/// Reading whole inputs.
public enum ByteInput {
    /// Reads everything from `fd` until end of file. Returns nil on a read error.
    public static func readAll(fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8].readBuffer(count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Reads a whole file, or nil if it cannot be opened or read.
    public static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return readAll(fd: fd)
    }
}

/// Writes a message to stderr without buffering.
public func printError(_ message: String) {
    let s = FDOutput(fd: 2, capacity: 0)
    s.write(message)
    s.flush()
}
