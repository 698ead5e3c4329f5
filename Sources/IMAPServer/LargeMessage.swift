#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MailCore
import Maildir
import MaildirCore

/// A message too large to hold in memory (issue 6: "no session ever holds a whole mailbox or
/// message"), described by one pass over its file in pieces: its size as IMAP counts it (CRLF
/// line ends, RFC 3501 §2.3.4), its MIME structure in those CRLF offsets (the same structure
/// `MessageView` parses from the whole message), and checkpoints that map CRLF offsets back
/// to file offsets, so any byte range of any section is read again from the file in pieces.
struct LargeMessage: Sendable {
    /// Where one piece of the file starts: its file offset, its CRLF offset and the byte before it.
    struct Checkpoint: Sendable {
        var crlf: Int
        var file: Int
        var previous: UInt8
    }

    /// Size with CRLF line ends.
    let size: Int
    /// The MIME structure, in CRLF offsets.
    let mime: MIMEMessage
    let checkpoints: [Checkpoint]

    /// The size of each piece read from the file.
    static let piece = 256 << 10
    /// Header blocks (HEADER.FIELDS, ENVELOPE, a message/rfc822 part's header) are read whole
    /// up to this size; a longer block is cut there.
    static let headerLimit = 1 << 20

    /// Reads the file open on `fd` once; nil when it cannot be read.
    static func scan(_ fd: Int32) -> LargeMessage? {
        var parser = MIMEStreamParser()
        var checkpoints: [Checkpoint] = []
        var raw = [UInt8](repeating: 0, count: piece)
        var out: [UInt8] = []
        out.reserveCapacity(piece + piece / 4)
        var file = 0
        var crlf = 0
        var previous: UInt8 = 0
        while true {
            let n = read(fd, &raw, at: file)
            if n < 0 { return nil }
            if n == 0 { break }
            checkpoints.append(Checkpoint(crlf: crlf, file: file, previous: previous))
            convert(raw, count: n, previous: previous, into: &out)
            parser.feed(out)
            previous = raw[n - 1]
            file += n
            crlf += out.count
        }
        if checkpoints.isEmpty { checkpoints.append(Checkpoint(crlf: 0, file: 0, previous: 0)) }
        return LargeMessage(size: crlf, mime: parser.finish(), checkpoints: checkpoints)
    }

    /// Hands the CRLF bytes of `range` to `sink` in pieces of at most `piece` bytes; returns
    /// how many it handed (fewer than asked only when the file is shorter than it was).
    @discardableResult
    func stream(_ fd: Int32, _ range: Range<Int>, _ sink: (ArraySlice<UInt8>) -> Void) -> Int {
        guard !range.isEmpty, let first = checkpoints.first else { return 0 }
        // The last checkpoint at or before the range (binary search).
        var lo = 0
        var hi = checkpoints.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if checkpoints[mid].crlf <= range.lowerBound { lo = mid } else { hi = mid - 1 }
        }
        let start = checkpoints.indices.contains(lo) ? checkpoints[lo] : first
        var file = start.file
        var crlf = start.crlf
        var previous = start.previous
        var raw = [UInt8](repeating: 0, count: Self.piece)
        var out: [UInt8] = []
        out.reserveCapacity(Self.piece + Self.piece / 4)
        var handed = 0
        while crlf < range.upperBound {
            let n = Self.read(fd, &raw, at: file)
            if n <= 0 { break }
            Self.convert(raw, count: n, previous: previous, into: &out)
            let from = max(range.lowerBound - crlf, 0)
            let to = min(range.upperBound - crlf, out.count)
            if from < to {
                sink(out[from..<to])
                handed += to - from
            }
            previous = raw[n - 1]
            file += n
            crlf += out.count
        }
        return handed
    }

    /// Hands the whole file open on `fd`, with CRLF line ends, to `sink` in pieces: one pass,
    /// no structure (SEARCH TEXT).
    static func streamWhole(_ fd: Int32, _ sink: (ArraySlice<UInt8>) -> Void) {
        var raw = [UInt8](repeating: 0, count: piece)
        var out: [UInt8] = []
        out.reserveCapacity(piece + piece / 4)
        var file = 0
        var previous: UInt8 = 0
        while true {
            let n = read(fd, &raw, at: file)
            if n <= 0 { return }
            convert(raw, count: n, previous: previous, into: &out)
            sink(out[...])
            previous = raw[n - 1]
            file += n
        }
    }

    /// The CRLF bytes of `range`, at most `limit` of them.
    func bytes(_ fd: Int32, _ range: Range<Int>, limit: Int = headerLimit) -> [UInt8] {
        let cut = range.count > limit ? range.lowerBound..<(range.lowerBound + limit) : range
        var out: [UInt8] = []
        out.reserveCapacity(cut.count)
        stream(fd, cut) { out.append(contentsOf: $0) }
        return out
    }

    /// The LFs in `range` (body-fld-lines, counted as `MessageView.lineCount` counts them).
    func lineCount(_ fd: Int32, _ range: Range<Int>) -> Int {
        var n = 0
        stream(fd, range) { slice in
            slice.withUnsafeBufferPointer { raw in
                guard let base = raw.baseAddress else { return }
                var at = 0
                while at < raw.count, let found = memchr(base + at, 10, raw.count - at) {
                    n += 1
                    at = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base + 1
                }
            }
        }
        return n
    }

    /// The header fields in `range` (read up to `headerLimit`).
    func headerBlock(_ fd: Int32, _ range: Range<Int>) -> HeaderBlock {
        HeaderReader.read(bytes(fd, range))
    }

    // MARK: sections (RFC 3501 §6.4.5), as `MessageView.section` finds them

    /// What a section names: a byte range of the message, or bytes made from it
    /// (HEADER.FIELDS); nil for a part that does not exist (an empty string).
    enum SectionContent {
        case range(Range<Int>)
        case made([UInt8])
    }

    func section(_ fd: Int32, _ section: Section) -> SectionContent? {
        switch MessageView.place(section, in: mime, size: size) {
        case nil: return nil
        case .range(let r)?: return .range(r)
        case .fields(let names, let exclude, let header)?:
            return .made(MessageView.pick(headerBlock(fd, header), names, exclude: exclude))
        }
    }

    /// BODYSTRUCTURE (RFC 3501 §7.4.2), with line counts and enclosed headers read from the file.
    func bodyStructure(_ fd: Int32) -> IMAP.BodyStructure {
        MessageView.structure(mime, index: 0, depth: 0, lines: { lineCount(fd, $0) },
                              headerBlock: { headerBlock(fd, $0) })
    }

    /// ENVELOPE from the top-level header block.
    func envelope(_ fd: Int32) -> IMAP.Envelope {
        let p = mime.position(of: 0)
        let block = headerBlock(fd, mime.clamped(p.start, p.startBody))
        return MessageView.envelope { name in
            block.first(named: name).map { MessageView.trim(HeaderUnfoldingShim.unfold($0.value)) }
        }
    }

    /// The top-level header of the file open on `fd`, with CRLF line ends, read only as far
    /// as the blank line that ends it: BODY[HEADER], HEADER.FIELDS and SEARCH HEADER of a
    /// large message need no pass over its body. Nil when the file cannot be read or the
    /// header is longer than `headerLimit` (the whole scan then answers).
    static func topHeader(_ fd: Int32) -> [UInt8]? {
        var parser = MIMEStreamParser()
        var raw = [UInt8](repeating: 0, count: 64 << 10)
        var out: [UInt8] = []
        var header: [UInt8] = []
        var file = 0
        var previous: UInt8 = 0
        while header.count <= headerLimit {
            let n = read(fd, &raw, at: file)
            if n < 0 { return nil }
            if n == 0 {
                // No body: the header runs to the end.
                let m = parser.finish()
                let p = m.position(of: 0)
                return Array(header[m.clamped(p.start, p.startBody)])
            }
            convert(raw, count: n, previous: previous, into: &out)
            parser.feed(out)
            header += out
            previous = raw[n - 1]
            file += n
            if let end = parser.topLevelHeaderEnd { return Array(header[..<min(max(end, 0), header.count)]) }
        }
        return nil
    }

    // MARK: file pieces

    /// The summary (ENVELOPE, SEARCH/SORT fields, structure) of the message file at `path`:
    /// parsed from the whole file when it is small, from pieces of it when it is larger than
    /// `MailboxSession.streamedBodyThreshold`; nil when it cannot be read.
    static func summary(_ path: String) -> MessageSummary? {
        let fd = MessageFileAccess.open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        if Int(st.st_size) > MailboxSession.streamedBodyThreshold { return MessageSummary.parse(fileDescriptor: fd) }
        return (try? SystemCall.readAll(fd, path: path, limit: Mailbox.maximumSummaryBytes)).map(MessageSummary.parse)
    }

    /// The size of the file at `path` with CRLF line ends, read in pieces (RFC822.SIZE of a
    /// message the index does not know); nil when it cannot be read.
    static func crlfSize(_ path: String) -> Int? {
        let fd = MessageFileAccess.open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        return Int(Mailbox.crlfSize(fd: fd))
    }

    /// Converts `raw[0..<count]` to CRLF line ends into `out` (emptied first); `previous` is
    /// the byte before the piece.
    static func convert(_ raw: [UInt8], count: Int, previous: UInt8, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        raw.withUnsafeBufferPointer { buffer in
            var start = 0
            MailboxSession.forEachBareLF(raw, count: count, previous: previous) { lf in
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<lf]))
                out.append(13)
                start = lf
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<count]))
        }
    }

    /// `pread` of up to `raw.count` bytes at `offset`, retrying EINTR: the count, 0 at the end, -1 on error.
    static func read(_ fd: Int32, _ raw: inout [UInt8], at offset: Int) -> Int {
        while true {
            let n = raw.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }
}

/// A large message's file, open while a command reads it (closed when the last user lets go).
final class OpenLargeMessage: @unchecked Sendable {
    let fd: Int32
    let message: LargeMessage
    /// BINARY parts measured this command, by part number: the decoded size and whether it
    /// holds a NUL (so BINARY.SIZE and BINARY of one part decode it to measure only once).
    var decoded: [[UInt32]: (size: Int, hasNUL: Bool)] = [:]

    init(fd: Int32, message: LargeMessage) {
        self.fd = fd
        self.message = message
    }

    deinit { close(fd) }
}
