#if canImport(Glibc)
import Glibc
#endif

/// A whole input (a file or standard input) mapped read-only into memory.
///
/// Tools that need random access to a message (reformime's section offsets) map it instead of
/// reading it into an array: the pages are backed by the file, so a 100 MB message does not
/// cost 100 MB of anonymous memory. Standard input that is not a regular file (a pipe) is first
/// spooled to an unlinked temporary file, as Courier's tools do.
public final class MappedInput {
    /// The bytes; valid while this object lives.
    public let bytes: UnsafeBufferPointer<UInt8>
    private let mapping: UnsafeMutableRawPointer?
    private let mappedLength: Int

    private init(mapping: UnsafeMutableRawPointer?, length: Int, offset: Int) {
        self.mapping = mapping
        self.mappedLength = length
        if let mapping, length > offset {
            bytes = UnsafeBufferPointer(start: mapping.advanced(by: offset).assumingMemoryBound(to: UInt8.self),
                                        count: length - offset)
        } else {
            bytes = UnsafeBufferPointer(start: nil, count: 0)
        }
    }

    deinit {
        if let mapping { munmap(mapping, mappedLength) }
    }

    /// Maps the file at `path`; nil (with errno set) if it cannot be opened or mapped.
    public static func file(_ path: String) -> MappedInput? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        return map(fd: fd, from: 0)
    }

    /// Maps standard input from its current position; a pipe or terminal is spooled first.
    public static func standardInput() -> MappedInput? {
        var st = stat()
        if fstat(0, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            let pos = lseek(0, 0, SEEK_CUR)
            if pos >= 0, let m = map(fd: 0, from: Int(pos)) { return m }
        }
        guard let spool = spoolToTemporaryFile(from: 0) else { return nil }
        defer { close(spool) }
        return map(fd: spool, from: 0)
    }

    private static func map(fd: Int32, from offset: Int) -> MappedInput? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let length = Int(st.st_size)
        if length == 0 || offset >= length {
            return MappedInput(mapping: nil, length: 0, offset: 0)
        }
        guard let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        _ = madvise(p, length, MADV_SEQUENTIAL)
        return MappedInput(mapping: p, length: length, offset: offset)
    }

    /// Copies `fd` to an unlinked file in TMPDIR (or /tmp); returns its descriptor.
    private static func spoolToTemporaryFile(from fd: Int32) -> Int32? {
        var dir = "/tmp"
        if let t = getenv("TMPDIR"), t.pointee != 0 { dir = String(cString: t) }
        var template = Array((dir + "/courier-input.XXXXXX").utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if out < 0 { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var chunk = [UInt8].readBuffer(count: 256 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                close(out)
                return nil
            }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = chunk.withUnsafeBytes { write(out, $0.baseAddress! + written, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    close(out)
                    return nil
                }
                written += w
            }
        }
        return out
    }
}
