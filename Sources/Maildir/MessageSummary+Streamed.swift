#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore

extension MessageSummary {
    /// Piece size for `parse(fileDescriptor:)`.
    static let streamedPiece = 256 << 10
    /// A header block longer than this is read only this far (hostile input).
    static let streamedHeaderLimit = 1 << 20

    /// The summary of a message file too large to hold (issue 6), read in pieces: the same
    /// summary `parse(_:)` gives for the whole file (header blocks up to 1 MiB). The file is
    /// read once for the MIME structure (`MIMEStreamParser`), counting its line feeds as it
    /// goes; then the body sizes and line counts need only the pieces where bodies start and
    /// end (`BodyMarks`), and each header block is read again by itself. Nil when the file
    /// cannot be read.
    public static func parse(fileDescriptor fd: Int32) -> MessageSummary? {
        var parser = MIMEStreamParser()
        var piece = [UInt8](repeating: 0, count: streamedPiece)
        var counts: [BodyMarks.Count] = []
        var running = BodyMarks.Count()
        while true {
            let n = readPiece(fd, &piece, at: running.offset)
            if n < 0 { return nil }
            if n == 0 { break }
            counts.append(running)
            piece.withUnsafeBufferPointer { raw in
                parser.feed(UnsafeBufferPointer(rebasing: raw[0..<n]))
                running.advance(over: raw, n)
            }
        }
        let message = parser.finish()
        guard let marks = BodyMarks(fd, message, pieces: counts, end: running) else { return nil }
        let fields = { (index: Int) -> [MIMEHeaderReader.Field] in headerFields(fd, message, index) }
        var builder = Builder(message: message, fields: fields, counts: { marks.counts($0) })
        let top = fields(0)
        return MessageSummary(envelope: Builder.envelope(top), references: Builder.first(top, "References"),
                              structure: builder.structure(0, depth: 0))
    }

    /// The header fields of entity `index`, read from the file (`MIMEHeaderReader.fields` over
    /// just that block).
    static func headerFields(_ fd: Int32, _ message: MIMEMessage, _ index: Int) -> [MIMEHeaderReader.Field] {
        let e = message.entities[index]
        let start = min(max(e.startPos, 0), message.byteCount)
        let end = min(max(MIMEHeaderReader.headerEnd(message, index, asTopLevel: e.parent == nil), start), message.byteCount,
                      start + streamedHeaderLimit)
        var block = [UInt8](repeating: 0, count: end - start)
        var got = 0
        while got < block.count {
            let n = block.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + got, raw.count - got, off_t(start + got))
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        block.removeLast(block.count - got)
        // The block alone, as an entity whose headers run to its end.
        var alone = MIMEEntity()
        alone.startPos = 0
        alone.startBody = block.count
        let single = MIMEMessage(byteCount: block.count, entities: [alone])
        return block.withUnsafeBufferPointer { MIMEHeaderReader.fields(single, $0, 0, asTopLevel: true) }
    }

    /// `pread` of up to a piece, retrying EINTR.
    static func readPiece(_ fd: Int32, _ piece: inout [UInt8], at offset: Int) -> Int {
        while true {
            let n = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Running counts at every body start and end of a message: enough to give
    /// `Builder.counts` for any of those ranges without holding the bytes. Made from the
    /// counts at the start of each piece (the structure pass) and a read of only the pieces
    /// that hold a mark.
    struct BodyMarks {
        /// At each marked offset p: LFs before p, LFs before p with no CR before them, the
        /// byte at p - 1 and the byte at p (0 outside the file).
        struct Mark {
            var lineFeeds = 0
            var bare = 0
            var before: UInt8 = 0
            var at: UInt8 = 0
        }

        /// The counts before file offset `offset`, and the byte before it.
        struct Count {
            var offset = 0
            var lineFeeds = 0
            var bare = 0
            var previous: UInt8 = 0

            /// Moves past `raw[0..<count]`, the bytes at `offset`.
            mutating func advance(over raw: UnsafeBufferPointer<UInt8>, _ count: Int) {
                guard count > 0, let base = raw.baseAddress else { return }
                var i = 0
                while i < count, let found = memchr(base + i, 10, count - i) {
                    let lf = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                    lineFeeds += 1
                    if (lf == 0 ? previous : raw[lf - 1]) != 0x0D { bare += 1 }
                    i = lf + 1
                }
                previous = raw[count - 1]
                offset += count
            }
        }

        var marks: [Int: Mark] = [:]

        /// `pieces`: the counts where each piece read by the structure pass began (in order);
        /// `end`: the counts at the end of the file.
        init?(_ fd: Int32, _ message: MIMEMessage, pieces: [Count], end: Count) {
            var points = Set<Int>()
            for index in message.entities.indices {
                let body = message.sectionBodyRange(of: index)
                points.insert(body.lowerBound)
                points.insert(body.upperBound)
            }
            var piece = [UInt8](repeating: 0, count: MessageSummary.streamedPiece)
            var loaded = -1     // the index in `pieces` of the piece held in `piece`
            var length = 0      // its bytes
            for point in points.sorted() {
                // The last piece that starts at or before the point (binary search).
                var lo = 0
                var hi = pieces.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if pieces[mid].offset <= point { lo = mid } else { hi = mid - 1 }
                }
                guard point < end.offset, pieces.indices.contains(lo) else {
                    marks[point] = Mark(lineFeeds: end.lineFeeds, bare: end.bare, before: end.previous, at: 0)
                    continue
                }
                if loaded != lo {
                    length = MessageSummary.readPiece(fd, &piece, at: pieces[lo].offset)
                    if length < 0 { return nil }
                    loaded = lo
                }
                // The file may have changed since the structure pass: never read past what came.
                let local = min(point - pieces[lo].offset, length)
                var count = pieces[lo]
                piece.withUnsafeBufferPointer { count.advance(over: $0, local) }
                marks[point] = Mark(lineFeeds: count.lineFeeds, bare: count.bare, before: count.previous,
                                    at: local < length ? piece[local] : 0)
            }
        }

        /// `Builder.counts` of `body`, from the marks at its ends.
        func counts(_ body: Range<Int>) -> (size: Int, lines: Int) {
            guard !body.isEmpty, let lo = marks[body.lowerBound], let hi = marks[body.upperBound] else { return (body.count, 0) }
            var lines = hi.lineFeeds - lo.lineFeeds
            var added = hi.bare - lo.bare
            // Counted inside the body alone, its first byte has no CR before it.
            if lo.at == 0x0A && lo.before == 0x0D { added += 1 }
            if hi.before != 0x0A { lines += 1 }
            return (body.count + added, lines)
        }
    }
}
