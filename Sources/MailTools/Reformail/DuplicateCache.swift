#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `-D len file`: Courier's Message-ID duplicate cache.
///
/// The file is a sequence of NUL-terminated Message-IDs ended by an empty string. A run drops
/// the current id if present ("duplicate"), appends it, drops entries from the front while
/// what remains is at least `len` bytes, and writes the result back from offset 0 without
/// truncating the file.
enum DuplicateCache {
    /// The outcome of one cache check.
    enum Outcome: Equatable {
        case duplicate
        case new
    }

    /// Reads the headers, checks the first Message-ID against the cache; returns the exit
    /// status (0 duplicate, 1 new or no Message-ID, 75 when the cache cannot be opened/locked).
    static func run(_ engine: ReformailEngine, maxLength: [UInt8], file: [UInt8]) -> Int32 {
        var outcome = Outcome.new
        while let line = engine.readLine(), !engine.inBody {
            guard ReformailEngine.key(of: line) == messageIDKey else { continue }
            guard let id = messageID(of: line) else { break }
            switch update(path: file, id: id, maxLength: ReformailOptions.cInteger(maxLength)) {
            case .success(let o): outcome = o
            case .failure(let status): return status.code
            }
            break
        }
        engine.reader.drain()
        return outcome == .duplicate ? 0 : 1
    }

    static let messageIDKey: [UInt8] = Array("message-id:".utf8)

    /// The header value with surrounding whitespace removed (inner folding kept); nil if empty.
    static func messageID(of line: [UInt8]) -> [UInt8]? {
        var start = messageIDKey.count
        var end = line.count
        while start < end, CByteClass.isSpace(line[start]) { start += 1 }
        while end > start, CByteClass.isSpace(line[end - 1]) { end -= 1 }
        return start < end ? Array(line[start..<end]) : nil
    }

    /// A failure exit, after its message was printed.
    struct Failure: Error {
        let code: Int32
    }

    /// Updates the cache file at `path`.
    static func update(path: [UInt8], id: [UInt8], maxLength: Int) -> Result<Outcome, Failure> {
        let fd = cPath(path) { open($0, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        if fd < 0 { return .failure(perrorFailure("open", code: ExitStatus.tempFail)) }
        defer { close(fd) }
        guard FileLock.lockExclusive(fd) else { return .failure(perrorFailure("lock", code: ExitStatus.tempFail)) }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0, lseek(fd, 0, SEEK_SET) >= 0 else {
            return .failure(perrorFailure("seek", code: ExitStatus.tempFail))
        }
        let wanted = max(maxLength, Int(size))
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while data.count < wanted {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, min($0.count, wanted - data.count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                printError("read: \(errorText())\n")
                break
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        let (contents, outcome) = rotate(data, id: id, maxLength: maxLength)
        if lseek(fd, 0, SEEK_SET) < 0 { return .failure(perrorFailure("lseek", code: 1)) }
        var offset = 0
        while offset < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(perrorFailure("write", code: 1)) }
            offset += n
        }
        return .success(outcome)
    }

    /// The pure cache algorithm: the bytes to write at offset 0 and whether `id` was there.
    static func rotate(_ data: [UInt8], id: [UInt8], maxLength: Int) -> ([UInt8], Outcome) {
        var kept: [UInt8] = []
        kept.reserveCapacity(data.count + id.count + 2)
        var outcome = Outcome.new
        var q = 0
        while q < data.count {
            if data[q] == 0 { break }  // the empty string ends the list
            var e = q
            while e < data.count, data[e] != 0 { e += 1 }
            let next = e < data.count ? e + 1 : e
            if data[q..<e].elementsEqual(id) {
                outcome = .duplicate
            } else {
                kept.append(contentsOf: data[q..<next])
            }
            q = next
        }
        kept.append(contentsOf: id)
        kept.append(0)
        // Drop entries from the front while the rest is at least maxLength bytes.
        var start = 0
        while start < kept.count {
            if kept.count - start < maxLength { break }
            while start < kept.count {
                start += 1
                if kept[start - 1] == 0 { break }
            }
        }
        if start == kept.count { start = 0 }
        kept.append(0)
        return (Array(kept[start...]), outcome)
    }

    private static func perrorFailure(_ what: String, code: Int32) -> Failure {
        printError("\(what): \(errorText())\n")
        return Failure(code: code)
    }

    static func errorText() -> String {
        guard let s = strerror(errno) else { return "error \(errno)" }
        return String(cString: s)
    }

    static func cPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        var c = path.map { CChar(bitPattern: $0) }
        c.append(0)
        return c.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
