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
    /// read once for the MIME structure (`MIMEStreamParser`), once more for the body sizes and
    /// line counts (every body range measured in one sequential pass), and each header block
    /// again by itself. Nil when the file cannot be read.
    public static func parse(fileDescriptor fd: Int32) -> MessageSummary? {
        var parser = MIMEStreamParser()
        var piece = [UInt8](repeating: 0, count: streamedPiece)
        var offset = 0
        while true {
            let n = readPiece(fd, &piece, at: offset)
            if n < 0 { return nil }
            if n == 0 { break }
            piece.withUnsafeBufferPointer { parser.feed(UnsafeBufferPointer(rebasing: $0[0..<n])) }
            offset += n
        }
        let message = parser.finish()
        guard let marks = BodyMarks(fd, message) else { return nil }
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

    /// Running counts at every body start and end of a message, from one pass over its file:
    /// enough to give `Builder.counts` for any of those ranges without holding the bytes.
    struct BodyMarks {
        /// At each marked offset p: LFs before p, LFs before p with no CR before them, the
        /// byte at p - 1 and the byte at p (0 outside the file).
        struct Mark {
            var lineFeeds = 0
            var bare = 0
            var before: UInt8 = 0
            var at: UInt8 = 0
        }

        var marks: [Int: Mark] = [:]

        init?(_ fd: Int32, _ message: MIMEMessage) {
            var points = Set<Int>()
            for index in message.entities.indices {
                let body = message.bodyRange(of: index)
                points.insert(body.lowerBound)
                points.insert(body.upperBound)
            }
            let sorted = points.sorted()
            var next = 0
            var lineFeeds = 0
            var bare = 0
            var previous: UInt8 = 0
            var piece = [UInt8](repeating: 0, count: MessageSummary.streamedPiece)
            var offset = 0
            while next < sorted.count {
                let n = MessageSummary.readPiece(fd, &piece, at: offset)
                if n < 0 { return nil }
                if n > 0 {
                    // Line feeds found with memchr; the marks in this piece filled in between.
                    piece.withUnsafeBufferPointer { raw in
                        guard let base = raw.baseAddress else { return }
                        var i = 0
                        while true {
                            let lf = i < n ? memchr(base + i, 10, n - i).map {
                                UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) - base } ?? n : n
                            if next < sorted.count, sorted[next] - offset <= lf, sorted[next] - offset < n {
                                let local = sorted[next] - offset
                                marks[sorted[next]] = Mark(lineFeeds: lineFeeds, bare: bare,
                                                           before: local == 0 ? previous : raw[local - 1], at: raw[local])
                                next += 1
                                continue
                            }
                            if lf >= n { break }
                            lineFeeds += 1
                            if (lf == 0 ? previous : raw[lf - 1]) != 0x0D { bare += 1 }
                            i = lf + 1
                        }
                    }
                    previous = piece[n - 1]
                }
                if n <= 0 {
                    // The end of the file (and any mark past it).
                    while next < sorted.count {
                        marks[sorted[next]] = Mark(lineFeeds: lineFeeds, bare: bare, before: previous, at: 0)
                        next += 1
                    }
                    break
                }
                offset += n
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
