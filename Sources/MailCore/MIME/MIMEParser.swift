/// Courier's MIME structure parser (RFC 2045/2046), reproducing maildrop 2.9.3's
/// `rfc2045_parse`: the message is read in 8 KiB chunks and split into lines; lines go to
/// the innermost open entity unless they are a delimiter of an enclosing multipart.
/// Entities are recorded as byte offsets; no body is copied. Never traps: any byte string
/// parses into some structure. Work is linear in the input (plus the entity count squared,
/// bounded by the 300-entity limit).
public enum MIMEParser {
    /// Courier stops interpreting lines once more than this many entities exist.
    public static let maxEntities = 300
    /// Courier's reading granularity (`BUFSIZ`), which decides where long lines are split.
    static let chunkSize = 8192
    /// A pending partial line longer than this is accounted for without waiting for its end.
    static let partialLimit = 1024

    /// Parses `bytes` (a whole message, LF or CRLF line endings).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> MIMEMessage {
        var state = ParserState()
        state.run(bytes)
        return state.finish(byteCount: bytes.count)
    }

    /// Parses `bytes` (fuzzable entry point: any bytes, never traps).
    public static func parse(_ bytes: [UInt8]) -> MIMEMessage {
        bytes.withUnsafeBufferPointer { parse($0) }
    }
}

/// Per-entity bookkeeping used only while parsing.
struct EntityWork {
    var inHeader = true
    var closed = false
    var inFormData = false
    // Courier updates counters on an entity and all its ancestors for every line; here the
    // last event of each entity is recorded and ancestors are filled in at the end.
    var lastSeq = 0
    var lastEnd = 0
    var lastEndBody = 0
    var lastEndInPart = 0
    var lastLines = 0
    /// The line break before the delimiter that ends this entity belongs to that delimiter
    /// also when the entity lies in a message/rfc822 part of a multipart (see `endInPart`).
    var inMultipartPart = false
    var startLines = 0
    var bodyStartLines = 0
}

/// States of the rewrite-preparation scanner (Courier `rfc2045acprep.c`).
enum RewriteScanState {
    case raw, quotedPrintable, qpSeenEquals, qpSeenEqualsHex, base64
}

struct ParserState {
    var entities: [MIMEEntity] = [MIMEEntity()]
    var work: [EntityWork] = [EntityWork()]
    var partCount = 0
    var rootErrors: MIMEErrors = []
    /// Courier's notion of the current offset: bytes of every processed line.
    var position = 0
    var lines = 0
    var seq = 0

    // The header being collected, and for which entity.
    var headerOwner = -1
    var header: [UInt8] = []
    var headerDecided: Bool? = nil

    // Rewrite-preparation scanner.
    var scanEntity: Int? = nil
    var scanLinePos = 0
    var scanState = RewriteScanState.raw
    var scanChar: UInt8 = 0

    mutating func run(_ buf: UnsafeBufferPointer<UInt8>) {
        let total = buf.count
        var pending = 0 // start of bytes not yet handed to the line processor
        var chunkStart = 0
        while chunkStart < total {
            let chunkEnd = min(chunkStart + MIMEParser.chunkSize, total)
            runChunk(buf, chunkStart, chunkEnd, pending: &pending)
            chunkStart = chunkEnd
        }
        if pending < total {
            _ = partial(buf, pending, total)
        }
    }

    /// One of Courier's reads: the lines that end in `buf[chunkStart..<chunkEnd]` (a line may
    /// have begun at `pending`, before the chunk), then a long unfinished line's accounting.
    mutating func runChunk(_ buf: UnsafeBufferPointer<UInt8>, _ chunkStart: Int, _ chunkEnd: Int, pending: inout Int) {
        var i = max(pending, chunkStart)
        while i < chunkEnd {
            var j = i
            while j < chunkEnd && buf[j] != 0x0A { j += 1 }
            if j < chunkEnd {
                doLine(buf, pending, j + 1)
                pending = j + 1
                i = j + 1
            } else {
                i = chunkEnd
            }
        }
        if chunkEnd - pending > MIMEParser.partialLimit {
            pending += partial(buf, pending, chunkEnd)
        }
    }

    // MARK: - tree helpers

    func lastPart(_ i: Int) -> Int? { entities[i].children.last }

    mutating func record(_ target: Int, count cnt: Int, endUpdate: Int, newLines: Int, partEndUpdate: Int? = nil) {
        let before = position
        work[target].lastEndInPart = before + (partEndUpdate ?? endUpdate)
        position += cnt
        lines += newLines
        seq += 1
        work[target].lastSeq = seq
        work[target].lastEnd = position
        work[target].lastEndBody = before + endUpdate
        work[target].lastLines = lines
    }

    mutating func appendPart(_ parent: Int, start: Int, inherit: Bool) -> Int {
        var e = MIMEEntity()
        e.parent = parent
        e.startPos = start
        e.startBody = start
        if inherit {
            e.transferEncoding = entities[parent].transferEncoding
            e.contentTypeParameters.set(Array("charset".utf8), entities[parent].contentTypeParameters["charset"])
        }
        var w = EntityWork()
        seq += 1
        w.lastSeq = seq
        w.lastEnd = start
        w.lastEndBody = start
        w.lastEndInPart = start
        w.inMultipartPart = entities[parent].isMultipart
            || (entities[parent].contentType == Self.messageRFC822 && work[parent].inMultipartPart)
        w.lastLines = lines
        w.startLines = lines
        w.bodyStartLines = lines
        let index = entities.count
        entities.append(e)
        work.append(w)
        entities[parent].children.append(index)
        partCount += 1
        return index
    }

    mutating func flagUp(_ start: Int, _ flag: MIMEErrors) {
        var q: Int? = start
        while let qi = q {
            entities[qi].errors.insert(flag)
            q = entities[qi].parent
        }
    }

    // MARK: - one line

    mutating func doLine(_ buf: UnsafeBufferPointer<UInt8>, _ lineStart: Int, _ lineEnd: Int) {
        if partCount > MIMEParser.maxEntities {
            rootErrors.insert(.tooComplex)
            return
        }
        let cnt = lineEnd - lineStart
        var n = cnt - 1
        if n > 0 && buf[lineStart + n - 1] == 0x0D { n -= 1 }
        var bit8 = false
        for k in lineStart..<lineEnd where buf[k] & 0x80 != 0 { bit8 = true; break }

        var p = 0
        // A long line was partly accounted for: its rest belongs to the same part.
        var q = 0
        while let last = lastPart(q), !work[last].closed {
            if entities[q].boundary != nil && !work[q].inHeader && work[last].inFormData {
                p = last
                work[last].inFormData = false
                break
            }
            q = last
        }

        // Drill down looking for a delimiter of an open multipart (RFC 2046 §5.1.1).
        while let last = lastPart(p) {
            if work[last].closed {
                record(p, count: cnt, endUpdate: n, newLines: 1)
                return
            }
            guard let cb = entities[p].boundary, !work[p].inHeader else {
                p = last
                continue
            }
            let l = cb.count
            if n >= 2 + l, buf[lineStart] == UInt8(ascii: "-"), buf[lineStart + 1] == UInt8(ascii: "-"),
               Self.equalsIgnoringCase(cb, buf, lineStart + 2) {
                if n >= 4 + l && buf[lineStart + 2 + l] == UInt8(ascii: "-") && buf[lineStart + 3 + l] == UInt8(ascii: "-") {
                    work[last].closed = true
                    record(p, count: cnt, endUpdate: cnt, newLines: 1)
                    return
                }
                record(p, count: cnt, endUpdate: n, newLines: 1)
                let newp = appendPart(p, start: position, inherit: true)
                entities[newp].mimeVersion = entities[p].mimeVersion
                return
            }
            p = last
        }

        if !work[p].inHeader {
            if bit8 && !entities[p].declares8bit && !entities[p].errors.contains(.eightBitContent) {
                flagUp(p, .eightBitContent)
            }
            var endUpdate = cnt
            // Read through `withUnsafeBufferPointer`: a computed property of `entities[i]`
            // copied the whole entity (a dozen retains and releases) for every body line.
            let (parentIsMultipart, isPreamble) = entities.withUnsafeBufferPointer { all in
                (all[p].parent.map { all[$0].isMultipart } ?? false, all[p].isPreamble)
            }
            if parentIsMultipart { endUpdate = n }
            if !isPreamble { scan(buf, lineStart, lineEnd, replaceNUL: true) }
            // RFC 2046 §5.1.1: the line break before a delimiter is the delimiter's, also for
            // the last line of a message encapsulated in a part (Courier keeps it in endBody).
            record(p, count: cnt, endUpdate: endUpdate, newLines: 1,
                   partEndUpdate: work[p].inMultipartPart ? n : endUpdate)
            return
        }

        if bit8 && !entities[p].errors.contains(.eightBitHeader) {
            flagUp(p, .eightBitHeader)
        }

        if n == 0 {
            endHeader(p, cnt)
            return
        }

        record(p, count: cnt, endUpdate: n, newLines: 1)
        entities[p].startBody = work[p].lastEndBody
        if headerOwner != p {
            headerOwner = p
            header.removeAll(keepingCapacity: true)
            headerDecided = nil
        }
        let first = buf[lineStart] == 0 ? 0x20 : buf[lineStart]
        if MIMEHeaderTokenizer.isSpace(first) {
            appendHeader(CollectionOfOne(0x20))
        } else {
            processHeader(p)
            header.removeAll(keepingCapacity: true)
            headerDecided = nil
        }
        appendHeader(UnsafeBufferPointer(rebasing: buf[lineStart..<(lineStart + n)]))
    }

    mutating func appendHeader<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if headerDecided == false { return }
        for b in bytes { header.append(b == 0 ? 0x20 : b) }
        if headerDecided == nil && header.count > 4096 {
            if let d = MIMEContentHeaders.mayBeInteresting(Array(header[0..<4096])) {
                headerDecided = d
                if !d { header.removeAll() }
            }
        }
    }

    mutating func processHeader(_ p: Int) {
        guard headerOwner == p, !header.isEmpty, headerDecided != false else { return }
        MIMEContentHeaders.apply(header, to: &entities, index: p, rootErrors: &rootErrors)
    }

    /// The blank line after an entity's headers (RFC 822 §3.1): interpret the headers.
    mutating func endHeader(_ p: Int, _ cnt: Int) {
        processHeader(p)
        header.removeAll(keepingCapacity: true)
        headerDecided = nil
        headerOwner = -1
        work[p].inHeader = false
        record(p, count: cnt, endUpdate: cnt, newLines: 1)
        entities[p].startBody = position
        work[p].bodyStartLines = lines

        var e = entities[p]
        if !e.isMIME {
            // RFC 2045 §4: without Mime-Version 1.0 the MIME headers mean nothing.
            e.contentType = nil
            e.contentTypeParameters = MIMEParameters()
            e.disposition = nil
            e.dispositionParameters = MIMEParameters()
            e.boundary = nil
        }
        if e.isMIME && e.contentType == nil {
            // RFC 2046 §5.1.5: in a digest the default is message/rfc822.
            var def = "text/plain"
            if let parent = e.parent, entities[parent].contentType == Array("multipart/digest".utf8) {
                def = "message/rfc822"
            }
            e.contentType = Array(def.utf8)
        }
        if !e.isMultipart { e.boundary = nil }
        entities[p] = e

        if e.contentType == Self.messageRFC822 {
            _ = appendPart(p, start: position, inherit: false)
            return
        }
        if e.boundary != nil {
            let pre = appendPart(p, start: position, inherit: true)
            entities[pre].isPreamble = true
            work[pre].inHeader = false
            return
        }
        startScan(p)
    }

    /// A long line not yet ended is accounted to the innermost open entity.
    mutating func partial(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int {
        var p = 0
        while let last = lastPart(p), !work[last].closed { p = last }
        var l = to - from
        if l > 0 && buf[to - 1] == 0x0D { l -= 1 }
        if !work[p].inHeader && (lastPart(p).map { !work[$0].closed } ?? true) {
            scan(buf, from, from + l, replaceNUL: false)
        }
        record(p, count: l, endUpdate: l, newLines: 0)
        work[p].inFormData = true
        return l
    }

    static let messageRFC822: [UInt8] = Array("message/rfc822".utf8)

    static func equalsIgnoringCase(_ lowered: [UInt8], _ buf: UnsafeBufferPointer<UInt8>, _ at: Int) -> Bool {
        for (k, b) in lowered.enumerated() {
            var c = buf[at + k]
            if c == 0 { c = 0x20 }
            if c >= 0x41 && c <= 0x5A { c += 32 }
            var d = b
            if d >= 0x41 && d <= 0x5A { d += 32 }
            if c != d { return false }
        }
        return true
    }

    // MARK: - rewrite preparation (8-bit and long-line detection)

    mutating func startScan(_ p: Int) {
        scanEntity = p
        scanLinePos = 0
        scanState = .raw
        if let te = entities[p].transferEncoding {
            if te == Array("quoted-printable".utf8) { scanState = .quotedPrintable }
            else if te == Array("base64".utf8) { scanState = .base64 }
        }
    }

    mutating func scan(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, replaceNUL: Bool) {
        guard let target = scanEntity else { return }
        if scanState == .base64 { return }
        var eightBit = entities[target].has8bitChars
        var longLine = entities[target].hasLongLine
        for k in from..<to {
            var c = buf[k]
            if replaceNUL && c == 0 { c = 0x20 }
            switch scanState {
            case .quotedPrintable, .raw:
                if scanState == .quotedPrintable && c == UInt8(ascii: "=") {
                    scanState = .qpSeenEquals
                    continue
                }
                if c == 0x0D || c == 0x0A {
                    scanLinePos = 0
                } else {
                    scanLinePos += 1
                    if scanLinePos > 500 { longLine = true }
                }
                if c >= 127 { eightBit = true }
            case .qpSeenEquals:
                if c == 0x0A { scanState = .quotedPrintable; continue }
                if MIMEHeaderTokenizer.isSpace(c) { continue }
                scanChar = c
                scanState = .qpSeenEqualsHex
            case .qpSeenEqualsHex:
                scanState = .quotedPrintable
                let v = (Self.nybble(scanChar) << 4) &+ Self.nybble(c)
                if UInt8(truncatingIfNeeded: v) >= 127 { eightBit = true }
                scanLinePos += 1
                if scanLinePos > 500 { longLine = true }
            case .base64:
                break
            }
        }
        entities[target].has8bitChars = eightBit
        entities[target].hasLongLine = longLine
    }

    /// Courier's `h2nyb`, which does not validate its argument.
    static func nybble(_ c: UInt8) -> Int {
        if c >= 0x61 && c <= 0x66 { return Int(c) - (0x61 - 10) }
        if c >= 0x41 && c <= 0x46 { return Int(c) - (0x41 - 10) }
        return Int(c) - 0x30
    }

    // MARK: - results

    mutating func finish(byteCount: Int) -> MIMEMessage {
        // Each entity's end is that of the latest line event in its subtree.
        var best = work.map { ($0.lastSeq, $0.lastEnd, $0.lastEndBody, $0.lastLines, $0.lastEndInPart) }
        for i in stride(from: entities.count - 1, to: 0, by: -1) {
            guard let parent = entities[i].parent else { continue }
            if best[i].0 > best[parent].0 { best[parent] = best[i] }
        }
        for i in entities.indices {
            entities[i].endPos = best[i].1
            entities[i].endBody = best[i].2
            entities[i].endInPart = best[i].4
            entities[i].lineCount = best[i].3 - work[i].startLines
            entities[i].bodyLineCount = work[i].inHeader ? 0 : best[i].3 - work[i].bodyStartLines
        }
        entities[0].errors.formUnion(rootErrors)
        return MIMEMessage(byteCount: byteCount, entities: entities)
    }
}
