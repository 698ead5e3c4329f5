#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ToolSupport

/// Buffered reading of the message from a file descriptor, with the line rules of Courier's
/// reformail (`NextLine`):
///
/// * a line ends at LF; one CR right before it (or before the end of input) is dropped;
/// * the line is then a C string: a NUL byte ends it, and a line cut short that way has no
///   line terminator (what `std::cout << line` would print).
///
/// The buffer only ever holds the current line (and one read chunk), so memory stays bounded
/// by the longest header line; the body can be streamed without whole lines (``BodyStreamer``).
final class InputReader {
    let fd: Int32
    private(set) var buffer: [UInt8] = []
    /// Index of the first unconsumed byte in `buffer`.
    var position = 0
    private(set) var atEOF = false
    private var scratch = [UInt8].readBuffer(count: 64 * 1024)

    init(fd: Int32) {
        self.fd = fd
    }

    /// Bytes available without reading.
    var available: Int { buffer.count - position }

    /// Reads one more chunk; false at end of input (or on a read error, treated as the end).
    @discardableResult
    func fill() -> Bool {
        if atEOF { return false }
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        while true {
            let n = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                atEOF = true
                return false
            }
            buffer.append(contentsOf: scratch[0..<n])
            return true
        }
    }

    /// The next line as reformail's `NextLine` returns it: content plus `\n`, or the content
    /// up to a NUL without `\n`; nil at end of input.
    func nextLine() -> [UInt8]? {
        var scanFrom = position
        while true {
            if let nl = firstNewline(from: scanFrom) {
                let line = cLine(position..<nl)
                position = nl + 1
                return line
            }
            scanFrom = buffer.count
            let consumedBefore = position
            if !fill() {
                if position == buffer.count { return nil }
                let line = cLine(position..<buffer.count)
                position = buffer.count
                return line
            }
            // fill() may have compacted the buffer.
            scanFrom -= consumedBefore - position
        }
    }

    /// Reads and throws away the rest of the input (seeking to the end when possible).
    func drain() {
        position = buffer.count
        if lseek(fd, 0, SEEK_END) >= 0 {
            atEOF = true
            return
        }
        while fill() { position = buffer.count }
    }

    func firstNewline(from start: Int) -> Int? {
        guard start < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { p -> Int? in
            guard let base = p.baseAddress,
                  let hit = memchr(base + start, 0x0A, p.count - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The C-string form of raw line bytes `range` (without the LF).
    private func cLine(_ range: Range<Int>) -> [UInt8] {
        if let nul = buffer[range].firstIndex(of: 0) {
            return Array(buffer[range.lowerBound..<nul])
        }
        var end = range.upperBound
        if end > range.lowerBound, buffer[end - 1] == 0x0D { end -= 1 }
        var line = [UInt8]()
        line.reserveCapacity(end - range.lowerBound + 1)
        line.append(contentsOf: buffer[range.lowerBound..<end])
        line.append(0x0A)
        return line
    }
}
