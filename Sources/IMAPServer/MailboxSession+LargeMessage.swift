#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MailCore
import MaildirCore

/// FETCH and SEARCH of messages larger than `streamedBodyThreshold`, read from the file in
/// pieces (`LargeMessage`) instead of whole: every section, partial, BINARY (decoded as it
/// streams), BINARY.SIZE, BODYSTRUCTURE, ENVELOPE, SEARCH BODY/TEXT. Literals go out through
/// `flushHook` piece by piece, so the connection's back-pressure paces the reads.
extension MailboxSession {
    /// The message at `index` opened and described, when it is larger than the threshold;
    /// nil for a small message (the caller takes the ordinary path) or a vanished one.
    func largeMessage(at index: Int) -> OpenLargeMessage? {
        guard let s = selected, index < s.messages.count else { return nil }
        let uid = s.messages[index].uid
        if let known = largeMessageCache, known.uid == uid { return known.message }
        guard let fd = openLargeFile(at: index) else { return nil }
        guard let message = LargeMessage.scan(fd) else {
            close(fd)
            return nil
        }
        let open = OpenLargeMessage(fd: fd, message: message)
        largeMessageCache = (uid, open)
        return open
    }

    /// The message file at `index` opened, when it is larger than the threshold; nil for a
    /// small message or a vanished one.
    private func openLargeFile(at index: Int) -> Int32? {
        guard let s = selected, index < s.messages.count else { return nil }
        // The index knows the size (with CRLF, so never below the file's): small is small.
        if s.messages[index].size >= 0 && Int(s.messages[index].size) <= Self.streamedBodyThreshold { return nil }
        guard let fd = openStoredMessage(at: index) else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) > Self.streamedBodyThreshold else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The top-level header of a large message (CRLF line ends): from this command's scan
    /// when there is one, else read only to the header's end (`LargeMessage.topHeader`). Nil
    /// for a small message, or a header too long to read alone (the caller scans).
    func largeTopHeader(at index: Int) -> [UInt8]? {
        guard let s = selected, index < s.messages.count else { return nil }
        if let known = largeMessageCache, known.uid == s.messages[index].uid {
            let m = known.message.message
            let p = m.mime.position(of: 0)
            return m.bytes(known.message.fd, m.mime.clamped(p.start, p.startBody), limit: Int.max)
        }
        guard let fd = openLargeFile(at: index) else { return nil }
        defer { close(fd) }
        return LargeMessage.topHeader(fd)
    }

    /// Whether FETCH `attribute` names only the message's top-level header (RFC822.HEADER,
    /// BODY[HEADER], BODY[HEADER.FIELDS ...], BODY[HEADER.FIELDS.NOT ...]).
    static func readsTopHeaderOnly(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .rfc822Header: return true
        case .bodySection(let section, _, _):
            guard section.part.isEmpty, let text = section.text else { return false }
            switch text {
            case .header, .headerFields, .headerFieldsNot: return true
            default: return false
            }
        default: return false
        }
    }

    /// Writes a top-level header item (`readsTopHeaderOnly`) of a large message from its
    /// header bytes alone: the header parsed by itself places the section as the whole
    /// message would (`MessageView.place`).
    func writeLargeHeader(_ attribute: FetchAttribute, _ header: [UInt8], into w: inout ResponseWriter) {
        var view = MessageView(fileBytes: header)
        switch attribute {
        case .rfc822Header:
            w.append("RFC822.HEADER ")
            w.literalOrQuoted(view.section(Section(text: .header))[...])
        case .bodySection(let section, let partial, _):
            Self.writeBodySectionName(section, partial, into: &w)
            let bytes = view.section(section)
            var slice = bytes[...]
            if let partial {
                let start = min(Int(partial.offset), bytes.count)
                slice = bytes[start..<min(start + Int(partial.count), bytes.count)]
            }
            w.literalOrQuoted(slice)
        default:
            break
        }
    }

    /// `BODY[section]<offset> ` of a large message's answer.
    static func writeBodySectionName(_ section: Section, _ partial: Partial?, into w: inout ResponseWriter) {
        w.append("BODY[")
        writeSection(section, into: &w)
        w.append("]")
        if let partial { w.append("<\(partial.offset)>") }
        w.space()
    }

    /// Whether FETCH needs the message's content for `attribute` (the large path applies).
    static func readsContent(_ attribute: FetchAttribute) -> Bool {
        switch attribute {
        case .uid, .flags, .internalDate, .rfc822Size, .modSeq: false
        // BODY[] and RFC822 whole: `streamWholeMessage` sends those without a MIME scan.
        case .rfc822: false
        case .bodySection(let section, let partial, _): !(partial == nil && section.part.isEmpty && section.text == nil)
        default: true
        }
    }

    /// Writes one FETCH item of a large message (name and value).
    func writeLarge(_ attribute: FetchAttribute, _ open: OpenLargeMessage, into w: inout ResponseWriter) {
        let m = open.message
        let fd = open.fd
        switch attribute {
        case .envelope:
            w.append("ENVELOPE ")
            w.envelope(m.envelope(fd))
        case .body, .bodyStructure:
            w.append(attribute == .body ? "BODY " : "BODYSTRUCTURE ")
            w.bodyStructure(m.bodyStructure(fd), extended: attribute == .bodyStructure)
        case .rfc822Header, .rfc822Text:
            w.append(attribute == .rfc822Header ? "RFC822.HEADER " : "RFC822.TEXT ")
            writeSectionLiteral(m.section(fd, Section(text: attribute == .rfc822Header ? .header : .text)),
                                partial: nil, open, into: &w)
        case .bodySection(let section, let partial, _):
            Self.writeBodySectionName(section, partial, into: &w)
            writeSectionLiteral(m.section(fd, section), partial: partial, open, into: &w)
        case .binary(let section, let partial, _):
            w.append("BINARY[" + section.part.map(String.init).joined(separator: ".") + "]")
            guard let (range, encoding) = binarySource(open, section) else {
                unknownEncodingSeen = true
                w.append(" NIL")
                return
            }
            if let partial { w.append("<\(partial.offset)>") }
            w.space()
            writeDecoded(open, section, range, encoding, partial: partial, into: &w)
        case .binarySize(let section):
            w.append("BINARY.SIZE[" + section.part.map(String.init).joined(separator: ".") + "] ")
            guard let (range, encoding) = binarySource(open, section) else {
                unknownEncodingSeen = true
                w.append("NIL")
                return
            }
            w.appendDecimal(UInt64(Self.measure(open, section, range, encoding).size))
        default:
            break
        }
    }

    /// A section as a literal (`""` when empty), cut to `partial`.
    private func writeSectionLiteral(_ content: LargeMessage.SectionContent?, partial: Partial?,
                                     _ open: OpenLargeMessage, into w: inout ResponseWriter) {
        switch content {
        case nil:
            w.literalOrQuoted([])
        case .made(let bytes):
            var slice = bytes[...]
            if let partial {
                let start = min(Int(partial.offset), bytes.count)
                slice = bytes[start..<min(start + Int(partial.count), bytes.count)]
            }
            w.literalOrQuoted(slice)
        case .range(var range):
            if let partial {
                let start = min(range.lowerBound + Int(partial.offset), range.upperBound)
                range = start..<min(start + Int(partial.count), range.upperBound)
            }
            if range.isEmpty {
                w.append("\"\"")
                return
            }
            streamLiteral(length: range.count, binary: false, into: &w) { sink in
                open.message.stream(open.fd, range, sink)
            }
        }
    }

    /// BINARY of a part (RFC 3516 §4.2): decoded in pieces once to measure (`measure`: the
    /// literal's length, and whether a NUL makes it a literal8), once to send; the length
    /// must go first and the part is never held.
    private func writeDecoded(_ open: OpenLargeMessage, _ section: Section, _ range: Range<Int>, _ encoding: [UInt8],
                              partial: Partial?, into w: inout ResponseWriter) {
        var window = 0..<Int.max
        if let partial { window = Int(partial.offset)..<(Int(partial.offset) + Int(partial.count)) }
        let whole = Self.measure(open, section, range, encoding)
        let total = whole.size
        var hasNUL = whole.hasNUL
        if hasNUL, partial != nil {
            // A NUL somewhere in the part: is there one in the slice sent?
            hasNUL = false
            var at = 0
            Self.decode(open, range, encoding) { piece in
                let lo = max(window.lowerBound - at, 0)
                let hi = min(window.upperBound - at, piece.count)
                if !hasNUL, lo < hi, piece[(piece.startIndex + lo)..<(piece.startIndex + hi)].contains(0) { hasNUL = true }
                at += piece.count
            }
        }
        let start = min(window.lowerBound, total)
        let length = min(window.upperBound, total) - start
        streamLiteral(length: length, binary: hasNUL, into: &w) { sink in
            var at = 0
            Self.decode(open, range, encoding) { piece in
                let lo = max(start - at, 0)
                let hi = min(start + length - at, piece.count)
                if lo < hi { sink(piece[(piece.startIndex + lo)..<(piece.startIndex + hi)]) }
                at += piece.count
            }
        }
    }

    /// The raw range and the transfer encoding BINARY[section] decodes (`binaryEncoding`);
    /// nil for an encoding we cannot undo.
    private func binarySource(_ open: OpenLargeMessage, _ section: Section) -> (Range<Int>, [UInt8])? {
        guard let encoding = Self.binaryEncoding(open.message.mime, section) else { return nil }
        guard case .range(let range)? = open.message.section(open.fd, section) else { return (0..<0, encoding) }
        return (range, encoding)
    }

    /// The decoded size of BINARY[section] and whether it holds a NUL, decoded once per
    /// command (kept in `open`).
    private static func measure(_ open: OpenLargeMessage, _ section: Section, _ range: Range<Int>,
                                _ encoding: [UInt8]) -> (size: Int, hasNUL: Bool) {
        if let known = open.decoded[section.part] { return known }
        var size = 0
        var hasNUL = false
        decode(open, range, encoding) { piece in
            if !hasNUL, piece.contains(0) { hasNUL = true }
            size += piece.count
        }
        open.decoded[section.part] = (size, hasNUL)
        return (size, hasNUL)
    }

    /// Decodes `range` with `encoding`, fed in 8 KiB pieces from the start of the range (as
    /// `QuotedPrintableDecoder.decode` feeds a held part, so long lines decode the same).
    private static func decode(_ open: OpenLargeMessage, _ range: Range<Int>, _ encoding: [UInt8],
                               _ sink: (ArraySlice<UInt8>) -> Void) {
        let passThrough = encoding != Array("base64".utf8) && encoding != Array("quoted-printable".utf8)
        if passThrough {
            open.message.stream(open.fd, range, sink)
            return
        }
        var decoder = TransferDecoder(encoding: encoding)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(8192)
        var out: [UInt8] = []
        func flush() {
            decoder.decode(chunk, into: &out)
            chunk.removeAll(keepingCapacity: true)
            if out.count >= 64 << 10 {
                sink(out[...])
                out.removeAll(keepingCapacity: true)
            }
        }
        open.message.stream(open.fd, range) { slice in
            var rest = slice
            while !rest.isEmpty {
                let take = min(8192 - chunk.count, rest.count)
                chunk.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                if chunk.count == 8192 { flush() }
            }
        }
        if !chunk.isEmpty { flush() }
        decoder.finish(into: &out)
        if !out.isEmpty { sink(out[...]) }
    }

    /// Writes `{length}` (or `~{length}`) CRLF, then exactly `length` octets that `produce`
    /// hands over, each piece passed on through `flushHook` (held in `w` when there is none).
    /// A source that gives fewer is padded with spaces, so the literal stays well formed.
    func streamLiteral(length: Int, binary: Bool, into w: inout ResponseWriter,
                       _ produce: ((ArraySlice<UInt8>) -> Void) -> Void) {
        if binary { w.append("~") }
        w.append("{")
        w.appendDecimal(UInt64(length))
        w.append("}\r\n")
        var sent = 0
        guard let flushHook else {
            produce { piece in
                let take = min(piece.count, length - sent)
                w.append(contentsOf: piece.prefix(take))
                sent += take
            }
            if sent < length { w.append(contentsOf: repeatElement(UInt8(32), count: length - sent)) }
            return
        }
        flushHook(w.bytes)
        let utf8 = w.utf8Allowed
        w = ResponseWriter(capacity: Self.flushThreshold + 4096)
        w.utf8Allowed = utf8
        var out: [UInt8] = []
        out.reserveCapacity(Self.flushThreshold + LargeMessage.piece)
        produce { piece in
            let take = min(piece.count, length - sent)
            out.append(contentsOf: piece.prefix(take))
            sent += take
            if out.count >= Self.flushThreshold {
                flushHook(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if sent < length { out.append(contentsOf: repeatElement(32, count: length - sent)) }
        if !out.isEmpty { flushHook(out) }
    }

    /// The top-level header block of a large message (SEARCH HEADER, SORT on a field the
    /// summaries do not keep); nil for a small message.
    func largeHeaderBlock(at index: Int) -> HeaderBlock? {
        if let header = largeTopHeader(at: index) { return HeaderReader.read(header) }
        guard let open = largeMessage(at: index) else { return nil }
        let p = open.message.mime.position(of: 0)
        return open.message.headerBlock(open.fd, open.message.mime.clamped(p.start, p.startBody))
    }

    // MARK: SEARCH BODY / TEXT (RFC 3501 §6.4.4)

    /// SEARCH BODY (`wholeMessage` false: the body after the top-level header) or TEXT (the
    /// whole message) over a large message, read in pieces: case-insensitive (ASCII) substring,
    /// found across piece boundaries. TEXT needs no structure, so unless this command already
    /// scanned the message it is one pass over the file with no MIME scan. Nil when the
    /// message is not large.
    func largeMessageContains(at index: Int, _ needle: [UInt8], wholeMessage: Bool) -> Bool? {
        guard let s = selected, index < s.messages.count else { return nil }
        if wholeMessage, largeMessageCache?.uid != s.messages[index].uid {
            guard let fd = openLargeFile(at: index) else { return nil }
            defer { close(fd) }
            return Self.containsFolded(needle) { LargeMessage.streamWhole(fd, $0) }
        }
        guard let open = largeMessage(at: index) else { return nil }
        let m = open.message
        let range = wholeMessage ? 0..<m.size : m.mime.bodyRange(of: 0)
        return Self.containsFolded(needle) { m.stream(open.fd, range, $0) }
    }

    /// Whether the bytes `produce` hands over hold `needle`, ASCII case-insensitively, also
    /// across the pieces' boundaries.
    private static func containsFolded(_ needle: [UInt8], _ produce: ((ArraySlice<UInt8>) -> Void) -> Void) -> Bool {
        if needle.isEmpty { return true }
        let lowered = Parser.lowercasedBytes(needle)
        var tail: [UInt8] = []   // the last needle.count - 1 bytes seen, lower-cased
        var found = false
        var window: [UInt8] = []
        produce { slice in
            guard !found else { return }
            window.removeAll(keepingCapacity: true)
            window.append(contentsOf: tail)
            for c in slice { window.append(c >= 65 && c <= 90 ? c + 32 : c) }
            if contains(window, lowered) { found = true; return }
            tail = Array(window.suffix(lowered.count - 1))
        }
        return found
    }
}
