#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MaildirCore

/// The per-folder summary cache `courierswiftsummaries`: an append-only file of records
///
///     "CSS2" <u32 little-endian payload length> <payload>
///     payload = <varint name length> <base name> <SummaryCoding of the MessageSummary>
///
/// so FETCH ENVELOPE/BODYSTRUCTURE and header SEARCH need not open message files again in a
/// later session. Records are appended with one `write()` on an `O_APPEND` descriptor, so
/// concurrent sessions do not interleave. A message's bytes never change under its base name,
/// so a record cannot go stale (records of expunged messages are just never asked for). A
/// record that does not check out (bad magic, length, name or encoding — a crash mid-write,
/// damage) makes the reader stop and remove the file; it is rebuilt as messages are fetched.
struct SummaryCache {
    static let fileName = "courierswiftsummaries"
    // "CSS2": sizes and lines of message/rfc822 parts end before the delimiter's line break.
    static let magic: [UInt8] = Array("CSS2".utf8)
    static let maximumRecord = 16 * 1024 * 1024
    let folderPath: String
    var path: String { folderPath + "/" + Self.fileName }

    /// Base name → offset of its record.
    func loadOffsets() -> [String: Int64] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return [:] }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return [:] }
        let end = Int64(st.st_size)
        var offsets: [String: Int64] = [:]
        var offset: Int64 = 0
        var head = [UInt8](repeating: 0, count: 8 + 5 + 512)
        while offset < end {
            let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard n >= 8, let (length, name) = Self.parseHead(head[0..<n]), offset + 8 + Int64(length) <= end else {
                unlink(path)   // damaged: start again
                return offsets
            }
            offsets[name] = offset
            offset += 8 + Int64(length)
        }
        return offsets
    }

    /// (payload length, base name) of a record head.
    static func parseHead(_ b: ArraySlice<UInt8>) -> (Int, String)? {
        let s = b.startIndex
        guard b.count >= 9, b[s..<(s + 4)].elementsEqual(magic) else { return nil }
        let length = Int(b[s + 4]) | Int(b[s + 5]) << 8 | Int(b[s + 6]) << 16 | Int(b[s + 7]) << 24
        guard length > 0, length <= maximumRecord else { return nil }
        var r = SummaryCoding.Reader(bytes: b[(s + 8)...])
        guard let nameBytes = r.bytesValue(), !nameBytes.isEmpty, nameBytes.count < 512, nameBytes.count < length else { return nil }
        return (length, String(decoding: nameBytes, as: UTF8.self))
    }

    /// The summary at `offset` if the record there is for `baseName` and decodes.
    func read(at offset: Int64, baseName: String) -> MessageSummary? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 8)
        guard head.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 8, off_t(offset)) }) == 8,
              head.starts(with: Self.magic) else { return nil }
        let length = Int(head[4]) | Int(head[5]) << 8 | Int(head[6]) << 16 | Int(head[7]) << 24
        guard length > 0, length <= Self.maximumRecord else { return nil }
        var payload = [UInt8](repeating: 0, count: length)
        guard payload.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, length, off_t(offset + 8)) }) == length else { return nil }
        var r = SummaryCoding.Reader(bytes: payload[...])
        guard let name = r.bytesValue(), name.elementsEqual(baseName.utf8) else { return nil }
        return SummaryCoding.decode(payload[r.i...])
    }

    static func record(baseName: String, summary: MessageSummary) -> [UInt8] {
        var payload: [UInt8] = []
        SummaryCoding.bytes(Array(baseName.utf8), &payload)
        payload += SummaryCoding.encode(summary)
        let n = payload.count
        return magic + [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8((n >> 24) & 0xFF)] + payload
    }

    /// Appends a record; returns its offset (nil on failure, which is harmless).
    func append(baseName: String, summary: MessageSummary) -> Int64? {
        let bytes = Self.record(baseName: baseName, summary: summary)
        guard bytes.count <= Self.maximumRecord, baseName.utf8.count < 512 else { return nil }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { return nil }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            if written > 0 { unlink(path) }   // a torn record: drop the file rather than leave it damaged
            return nil
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Int64(st.st_size) - Int64(bytes.count)
    }
}
