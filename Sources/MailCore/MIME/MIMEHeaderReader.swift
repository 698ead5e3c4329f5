/// Reads the header lines of one MIME entity back from the message bytes, the way
/// Courier's `rfc2045header_get` does with "keep newlines, keep case": CRs are dropped,
/// folded lines keep their line breaks, the name is everything before the first `:`,
/// the value starts after the whitespace following it and loses trailing whitespace.
/// The headers end at a line starting with CR or LF, or at the entity's body.
public struct MIMEHeaderReader {
    /// One header: name as written (may include trailing blanks) and value.
    public struct Field: Equatable, Sendable {
        public var name: [UInt8]
        public var value: [UInt8]
    }

    /// Where Courier stops reading the headers of entity `index` (`rfc2045header_start`).
    /// Normally the body start. For an entity without headers Courier's position helper
    /// hands back, through aliased outputs, the end minus 2 for a part, or the raw body line
    /// count for a top-level entity (or a part rewritten as one); a value before the start
    /// means "to the end of the input".
    public static func headerEnd(_ message: MIMEMessage, _ index: Int, asTopLevel: Bool) -> Int {
        let e = message.entities[index]
        if e.startBody != e.startPos { return e.startBody }
        if !asTopLevel && e.parent != nil {
            var v = e.endBody
            if v != 0 { v -= 1 }
            if v != 0 { v -= 1 }
            return v < e.startPos ? message.byteCount : v
        }
        let v = e.bodyLineCount
        return v < e.startPos ? message.byteCount : v
    }

    /// All header fields of entity `index` in `message`; `asTopLevel` when Courier treats
    /// the entity as having no parent (the message itself, or a rewritten sole child).
    public static func fields(_ message: MIMEMessage, _ bytes: UnsafeBufferPointer<UInt8>, _ index: Int,
                              asTopLevel: Bool = false) -> [Field] {
        let e = message.entities[index]
        var p = min(max(e.startPos, 0), bytes.count)
        let end = min(max(headerEnd(message, index, asTopLevel: asTopLevel || e.parent == nil), p), bytes.count)
        var out: [Field] = []
        while true {
            guard p < end, bytes[p] != 0x0D, bytes[p] != 0x0A else { break }
            var buf: [UInt8] = []
            var afterNewline = false
            while p < end {
                let c = bytes[p]
                if c == 0x0D { p += 1; continue }
                if afterNewline {
                    if !MIMEHeaderTokenizer.isSpace(c) || c == 0x0A { break }
                    afterNewline = false
                }
                if c == 0x0A { afterNewline = true }
                buf.append(c)
                p += 1
            }
            while buf.last == 0x20 { buf.removeLast() }
            if let nul = buf.firstIndex(of: 0) { buf.removeSubrange(nul...) }
            var name = buf
            var value: [UInt8] = []
            if let colon = buf.firstIndex(of: UInt8(ascii: ":")) {
                name = Array(buf[0..<colon])
                var v = colon + 1
                while v < buf.count && MIMEHeaderTokenizer.isSpace(buf[v]) { v += 1 }
                value = Array(buf[v...])
            }
            if value.last == 0x0A { value.removeLast() }
            while let l = value.last, MIMEHeaderTokenizer.isSpace(l) { value.removeLast() }
            out.append(Field(name: name, value: value))
        }
        return out
    }

    /// Courier's `rfc822hdr_namecmp`: header names compared case-insensitively.
    public static func nameEquals(_ name: [UInt8], _ other: String) -> Bool {
        let o = Array(other.utf8)
        guard name.count == o.count else { return false }
        for (a, b) in zip(name, o) {
            let la = a >= 0x41 && a <= 0x5A ? a + 32 : a
            let lb = b >= 0x41 && b <= 0x5A ? b + 32 : b
            if la != lb { return false }
        }
        return true
    }
}
