#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ToolSupport

/// One input of makemime: a file, a descriptor, standard input or a child's spooled
/// output. It behaves like the C stdio stream Courier reads through: a 4 KiB read
/// buffer, `fgets`-style line reads, byte reads with one byte of look-ahead, and
/// `ftell`/`fseek` on seekable inputs. Read errors are remembered, as `ferror` would.
final class MakemimeInput {
    /// Size of one buffered read (glibc uses st_blksize, 4096 here).
    static let blockSize = 4096
    /// Size of one unbuffered bulk read when copying or encoding content.
    static let bulkSize = 64 * 1024
    /// `fgets(buffer, BUFSIZ, fp)` reads at most BUFSIZ - 1 bytes.
    static let lineLimit = 8191

    let fd: Int32
    /// Whether `close` should close `fd` (not for standard input).
    private let ownsDescriptor: Bool
    /// A regular file, as `fstat` says (temporary spools count as regular).
    let isRegular: Bool

    /// Read buffer; bytes `position..<validCount` are unread.
    private var buffer: [UInt8] = []
    private var validCount = 0
    private var position = 0
    private(set) var atEnd = false
    /// errno of the first failed read, if any.
    private(set) var readError: Int32?
    private var closed = false

    /// Told about read errors, so that later messages print the errno C would have.
    private weak var runtime: MakemimeRuntime?

    init(fd: Int32, ownsDescriptor: Bool, runtime: MakemimeRuntime?) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.runtime = runtime
        var status = stat()
        if fstat(fd, &status) == 0 {
            isRegular = (status.st_mode & S_IFMT) == S_IFREG
        } else {
            isRegular = false
        }
    }

    deinit { close() }

    func close() {
        if closed { return }
        closed = true
        if ownsDescriptor { _ = Glibc.close(fd) }
    }

    /// Bytes read into the buffer and not consumed yet.
    var bufferedCount: Int { validCount - position }

    /// Refills the buffer; false at end of file or on an error.
    private func fill(_ size: Int = MakemimeInput.blockSize) -> Bool {
        if atEnd || readError != nil { return false }
        validCount = 0
        position = 0
        if buffer.count < size { buffer = [UInt8].readBuffer(count: size) }
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, size) }
            if n < 0 {
                if errno == EINTR { continue }
                readError = errno
                runtime?.lastErrno = errno
                return false
            }
            if n == 0 {
                atEnd = true
                return false
            }
            validCount = n
            return true
        }
    }

    /// `getc`: the next byte, or nil at end of file or on an error.
    func readByte() -> UInt8? {
        if position >= validCount && !fill() { return nil }
        let byte = buffer[position]
        position += 1
        return byte
    }

    /// `getc` followed by `ungetc`: the next byte without consuming it.
    func peekByte() -> UInt8? {
        if position >= validCount && !fill() { return nil }
        return buffer[position]
    }

    /// `fgets` with a BUFSIZ buffer: up to and including the next LF, at most
    /// `lineLimit` bytes; nil when nothing could be read or a read failed.
    func readLine(limit: Int = MakemimeInput.lineLimit) -> [UInt8]? {
        var line: [UInt8] = []
        while line.count < limit {
            if position >= validCount && !fill() { break }
            let available = min(validCount - position, limit - line.count)
            var end = position
            var sawNewline = false
            while end < position + available {
                if buffer[end] == UInt8(ascii: "\n") {
                    end += 1
                    sawNewline = true
                    break
                }
                end += 1
            }
            line.append(contentsOf: buffer[position..<end])
            position = end
            if sawNewline { break }
        }
        if readError != nil || line.isEmpty { return nil }
        return line
    }

    /// Consumes the rest of the current line, through its LF (the `getc` loop Courier
    /// uses after a line longer than its buffer).
    func skipRestOfLine() {
        while let byte = readByte(), byte != UInt8(ascii: "\n") {}
    }

    /// Like `skipRestOfLine`, but hands the bytes before the LF to `sink`.
    func copyRestOfLine(to sink: MakemimeOutput) {
        while let byte = readByte(), byte != UInt8(ascii: "\n") {
            sink.write(byte)
        }
    }

    /// The next chunk of content (buffered bytes first), or nil at end of file or on an error.
    func readChunk() -> ArraySlice<UInt8>? {
        if position < validCount {
            let chunk = buffer[position..<validCount]
            position = validCount
            return chunk
        }
        if !fill(MakemimeInput.bulkSize) { return nil }
        position = validCount
        return buffer[0..<validCount]
    }

    /// `ftell`: the offset of the next byte, or nil (with errno) when the input cannot seek.
    func tell() -> Int64? {
        let offset = lseek(fd, 0, SEEK_CUR)
        if offset < 0 { return nil }
        return Int64(offset) - Int64(bufferedCount)
    }

    /// `fseek(SEEK_SET)`: drops the buffer and clears end of file.
    func seek(to offset: Int64) -> Bool {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 { return false }
        validCount = 0
        position = 0
        atEnd = false
        return true
    }

    /// Moves the descriptor to the logical position but keeps the buffered bytes, as
    /// Courier does after the `-` line of an argument file (`lseek(fileno(fp), ftell(fp))`).
    func alignDescriptorKeepingBuffer() {
        if let offset = tell() {
            _ = lseek(fd, off_t(offset), SEEK_SET)
        }
    }

    /// Drops buffered bytes and continues at the descriptor's offset (Courier's
    /// `fseek(fp, lseek(fd, 0, SEEK_CUR))` on a regular file).
    func dropBufferAtDescriptorOffset() -> Bool {
        let offset = lseek(fd, 0, SEEK_CUR)
        if offset < 0 { return false }
        return seek(to: Int64(offset))
    }

    /// Reads the whole underlying file from offset 0 without moving the stream (Courier's
    /// encoding detection seeks to the start, reads to the end and seeks back); `body`
    /// returns false to stop early. A read error is remembered like any other.
    func scanFromStart(_ body: (UnsafeBufferPointer<UInt8>) -> Bool) {
        var chunk = [UInt8].readBuffer(count: MakemimeInput.bulkSize)
        var offset: off_t = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 {
                if errno == EINTR { continue }
                readError = errno
                runtime?.lastErrno = errno
                return
            }
            if n == 0 { return }
            offset += off_t(n)
            let more = chunk.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<n])) }
            if !more { return }
        }
    }

    /// Reads and discards everything left (so that a writer never sees a broken pipe).
    func drain() {
        while !atEnd && readError == nil {
            position = validCount
            _ = fill(MakemimeInput.bulkSize)
        }
    }
}
