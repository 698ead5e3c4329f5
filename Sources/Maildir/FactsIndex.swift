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

    /// Parses the file (pure; the fuzz/corruption entry point). Bad lines are skipped. The
    /// records stay in file order; the table by name is only built if a lookup does not find
    /// its name at the next record (the file is written in UID order and read back in UID
    /// order, so usually it never is). Of two lines for one name (never written so: a damaged
    /// or foreign file) the table and `parse` take the later, a lookup in file order may meet
    /// the earlier first; either way the record count differs from the scan's, and the scan
    /// rewrites the file.
    static func parseTable(_ bytes: [UInt8]) -> FactsTable {
        guard bytes.starts(with: header) else { return FactsTable() }
        var table = FactsTable()
        table.bytes = bytes
        // A line is about 60-100 bytes.
        table.records.reserveCapacity(bytes.count / 64)
        var i = header.count
        let n = bytes.count
        bytes.withUnsafeBufferPointer { b in
            while i < n {
                var end = i
                while end < n && b[end] != 0x0A { end += 1 }
                if end < n, let (size, afterSize) = number(b, from: i, to: end), afterSize < end, b[afterSize] == 0x20,
                   let (date, afterDate) = number(b, from: afterSize + 1, to: end), afterDate < end - 1, b[afterDate] == 0x20,
                   end - afterDate - 1 < Int(UInt32.max) {
                    table.records.append(FactsTable.Record(start: UInt32(truncatingIfNeeded: afterDate + 1),
                                                           length: UInt32(truncatingIfNeeded: end - afterDate - 1),
                                                           facts: MessageFacts(size: size, internalDate: date)))
                }
                i = end + 1
            }
        }
        return table
    }

    /// `parseTable` as a dictionary (for tests and small callers).
    static func parse(_ bytes: [UInt8]) -> [String: MessageFacts] {
        var result: [String: MessageFacts] = [:]
        let table = parseTable(bytes)
        for r in table.records {
            result[String(decoding: table.bytes[Int(r.start)..<Int(r.start + r.length)], as: UTF8.self)] = r.facts
        }
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
        format(facts.map { (name: $0.key, facts: $0.value) })
    }

    /// The file's bytes, one line per record in the order given (a scan gives them in UID
    /// order, the order it will look them up in next time).
    static func format(_ facts: [(name: String, facts: MessageFacts)]) -> [UInt8] {
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
        save(ordered: facts.map { (name: $0.key, facts: $0.value) })
    }

    /// `save` with the records in this order (UID order, as a scan looks them up).
    func save(ordered facts: [(name: String, facts: MessageFacts)]) {
        let t = SystemCall.now()
        let temporary = folderPath + "/tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_index.\(UniqueName.escapeHost(SystemCall.hostName()))"
        try? SystemCall.replaceFile(path, temporaryPath: temporary, bytes: Self.format(facts), mode: 0o600)
    }
}

/// `courierswiftindex` as read: its records in file order, each name's facts found by the
/// name's bytes: at the record after the last one found (a scan asks in the order the file was
/// written), else through a table by name built on the first such miss.
struct FactsTable {
    /// One line: where its name is in `bytes`, and its facts.
    struct Record {
        var start: UInt32
        var length: UInt32
        var facts: MessageFacts
    }

    var bytes: [UInt8] = []
    var records: [Record] = []
    /// Name → record index (the last record of a name); built by the first out-of-order lookup.
    private var names: ByteKeyTable?
    /// The record the next lookup tries first.
    private var next = 0

    /// Records in the file (a name written twice counts twice: the file is then rewritten).
    var count: Int { records.count }

    /// The facts of the message with this base name.
    mutating func facts(for baseName: String) -> MessageFacts? {
        var name = baseName
        return name.withUTF8 { facts(for: $0) }
    }

    mutating func facts(for name: UnsafeBufferPointer<UInt8>) -> MessageFacts? {
        if next < records.count, matches(records[next], name) {
            next += 1
            return records[next - 1].facts
        }
        if names == nil { names = buildTable() }
        guard let i = names?.value(for: name).map({ Int($0) }) else { return nil }
        next = i + 1
        return records[i].facts
    }

    private func matches(_ r: Record, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(r.length) == name.count else { return false }
        return bytes.withUnsafeBufferPointer { b in
            name.isEmpty || memcmp(b.baseAddress! + Int(r.start), name.baseAddress!, name.count) == 0
        }
    }

    private func buildTable() -> ByteKeyTable {
        var table = ByteKeyTable(capacity: records.count, keyBytes: records.count * 64)
        bytes.withUnsafeBufferPointer { b in
            for (i, r) in records.enumerated() {
                let key = UnsafeBufferPointer(rebasing: b[Int(r.start)..<Int(r.start + r.length)])
                // Of two lines for one name the later one counts.
                if table.insert(key, value: Int32(truncatingIfNeeded: i)) != nil {
                    table.replaceValue(for: key, with: Int32(truncatingIfNeeded: i))
                }
            }
        }
        return table
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
