#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// The per-folder cache file `courierswiftindex`: for each message base name its RFC822 size
/// (CRLF) and internal date, so that opening a folder does not read every message again.
///
/// Format (text, one record per line):
///
///     courierswiftindex 1
///     <crlf-size> <mtime> <basename>
///
/// It is only a cache: a message's content never changes under its base name (Maildir), so an
/// entry cannot go stale; entries of vanished messages are dropped on the next write; a missing,
/// truncated or corrupt file (or a line that does not parse) only costs a re-measure. Courier's
/// programs ignore the file (it is neither a folder nor in `cur`/`new`/`tmp`).
struct FactsIndex {
    static let fileName = "courierswiftindex"
    static let header = Array("courierswiftindex 1\n".utf8)
    /// Refuse to read absurd files (a hostile or broken index must not exhaust memory).
    static let readLimit = 512 * 1024 * 1024

    let folderPath: String
    var path: String { folderPath + "/" + Self.fileName }

    /// The cached facts as a table by base name; empty if the file is missing or unusable.
    func load() -> FactsTable {
        guard let bytes = readCacheFile(path, limit: Self.readLimit) else { return FactsTable() }
        return Self.parseTable(bytes)
    }

    /// Parses the file (pure; the fuzz/corruption entry point). Bad lines are skipped; of two
    /// lines for one name the later one counts.
    static func parseTable(_ bytes: [UInt8]) -> FactsTable {
        guard bytes.starts(with: header) else { return FactsTable() }
        // A line is about 60-100 bytes. The names are keys over their bytes: no String each.
        var table = FactsTable(names: ByteKeyTable(capacity: bytes.count / 64, keyBytes: bytes.count))
        table.facts.reserveCapacity(bytes.count / 64)
        var i = header.count
        let n = bytes.count
        bytes.withUnsafeBufferPointer { b in
            while i < n {
                var end = i
                while end < n && b[end] != 0x0A { end += 1 }
                if end < n, let (size, afterSize) = number(b, from: i, to: end), afterSize < end, b[afterSize] == 0x20,
                   let (date, afterDate) = number(b, from: afterSize + 1, to: end), afterDate < end - 1, b[afterDate] == 0x20 {
                    let f = MessageFacts(size: size, internalDate: date)
                    if let known = table.names.insert(UnsafeBufferPointer(rebasing: b[(afterDate + 1)..<end]),
                                                      value: Int32(truncatingIfNeeded: table.facts.count)) {
                        table.facts[Int(known)] = f
                    } else {
                        table.facts.append(f)
                    }
                }
                i = end + 1
            }
        }
        return table
    }

    /// `parseTable` as a dictionary (for tests and small callers).
    static func parse(_ bytes: [UInt8]) -> [String: MessageFacts] {
        let table = parseTable(bytes)
        var result: [String: MessageFacts] = [:]
        for (name, i) in table.names.pairs { result[name] = table.facts[Int(i)] }
        return result
    }

    /// A non-negative decimal of at most 18 digits in bytes[from..<to]; (value, index after it).
    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> (Int64, Int)? {
        var value: Int64 = 0
        var i = from
        while i < to, i - from < 18, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            value = value * 10 + Int64(bytes[i] - 0x30)
            i += 1
        }
        return i > from ? (value, i) : nil
    }

    static func format(_ facts: [String: MessageFacts]) -> [UInt8] {
        var out = header
        out.reserveCapacity(header.count + facts.count * 80)
        for (name, f) in facts where !name.utf8.contains(0x0A) {
            out.append(contentsOf: "\(f.size) \(f.internalDate) ".utf8)
            out.append(contentsOf: name.utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Rewrites the file through `tmp/` (readers never see half of it). Failures are ignored:
    /// the cache is an optimisation (a full disk must not fail a SELECT).
    func save(_ facts: [String: MessageFacts]) {
        let t = SystemCall.now()
        let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_index.\(UniqueName.escapeHost(SystemCall.hostName()))"
        try? SystemCall.replaceFile(path, temporaryPath: temporary, bytes: Self.format(facts), mode: 0o600)
    }
}

/// `courierswiftindex` as read: each name's facts, found by the name's bytes.
struct FactsTable {
    var names = ByteKeyTable()
    var facts: [MessageFacts] = []

    var count: Int { names.count }

    /// The facts of the message with this base name.
    func facts(for baseName: String) -> MessageFacts? {
        names.value(for: baseName).map { facts[Int($0)] }
    }
}

/// Replaces a cache file that carries its own checksum (`courierswiftsnapshot`,
/// `courierswiftsnapmodseq`) through `tmp/` and a rename, without an `fsync`: after a crash a
/// torn or empty file fails its checksum or length and is ignored (a rescan writes it again),
/// so the sync of up to megabytes per rescan buys nothing. Failures are ignored.
func replaceCacheFile(folderPath: String, name: String, bytes: [UInt8]) {
    let t = SystemCall.now()
    let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_\(name).\(UniqueName.escapeHost(SystemCall.hostName()))"
    guard let fd = try? SystemCall.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, mode: 0o600) else { return }
    let written = (try? SystemCall.writeAll(fd, bytes, path: temporary)) != nil
    close(fd)
    if !written || rename(temporary, folderPath + "/" + name) != 0 { unlink(temporary) }
}

/// Reads a whole cache file with one allocation (fstat size, then read into place); nil when
/// missing, unreadable or larger than `limit`.
func readCacheFile(_ path: String, limit: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_size >= 0, st.st_size <= limit else { return nil }
    let size = Int(st.st_size)
    var failed = false
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        var filled = 0
        while filled < size {
            let n = read(fd, buffer.baseAddress! + filled, size - filled)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        failed = filled != size
        count = filled
    }
    return failed ? nil : bytes
}
