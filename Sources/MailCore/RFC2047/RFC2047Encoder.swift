/// RFC 2047 encoding of header text as Courier does it (`rfc2047_encode_str`).
///
/// The text is converted to Unicode; whitespace (space, tab, CR, LF) is copied; each run
/// of words is either copied (if no word needs encoding) or, when the first word needs
/// encoding, that word and all following words that also need encoding are encoded
/// together, whitespace included. The run becomes one or more encoded words in the
/// shorter of Q and B (B on a tie), each of at most (76 - offset) / 2 characters, split
/// at grapheme boundaries, separated by a space; offset is 27 for the very first run.
public enum RFC2047Encoder {
    /// Which ASCII characters may appear unencoded inside a Q word.
    public enum QAllowed: Sendable {
        /// Everything (`rfc2047_qp_allow_any`), for unstructured text.
        case any
        /// Not `(`, `)` or `"` (`rfc2047_qp_allow_comment`).
        case comment
        /// Letters, digits and `+/*-=_` (`rfc2047_qp_allow_word`), for phrases.
        case word

        func allows(_ c: UInt8) -> Bool {
            switch self {
            case .any: return true
            case .comment: return c != UInt8(ascii: "(") && c != UInt8(ascii: ")") && c != UInt8(ascii: "\"")
            case .word:
                return Base64Alphabet.contains(c) || c == UInt8(ascii: "*") || c == UInt8(ascii: "-")
                    || c == UInt8(ascii: "=") || c == UInt8(ascii: "_")
            }
        }
    }

    static let Base64Alphabet = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8))
    static let hex = Array("0123456789ABCDEF".utf8)
    static let foldLength = 76

    @inline(__always) static func isSpace(_ c: UInt32) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

    static func needsEncoding(_ c: UInt32, _ allowed: QAllowed) -> Bool {
        if c < 0x20 || c > 0x7F { return true }
        let b = UInt8(c)
        return b == UInt8(ascii: "\"") || b == UInt8(ascii: "_") || b == UInt8(ascii: "=")
            || b == UInt8(ascii: "?") || !allowed.allows(b)
    }

    /// Encodes `text` (in `charset`) for a header; nil when the charset is unknown.
    public static func encode(_ text: [UInt8], charset: String, allowed: QAllowed) -> [UInt8]? {
        var input = text
        if let nul = input.firstIndex(of: 0) { input.removeSubrange(nul...) }
        guard let uc = CharsetConverter.scalars(input, from: charset) else { return nil }
        var out: [UInt8] = []
        var offset = 27
        var pos = 0
        while pos < uc.count {
            if isSpace(uc[pos]) {
                out.append(UInt8(truncatingIfNeeded: uc[pos]))
                pos += 1
                continue
            }
            let (flag, end) = wordRun(uc, from: pos, allowed)
            guard encodeRun(uc[pos..<end], charset: charset, flag: flag, allowed: allowed, offset: offset, into: &out) else { return nil }
            offset = 0
            pos = end
        }
        return out
    }

    /// One word: whether it needs encoding, and where it ends.
    static func word(_ uc: [UInt32], from: Int, _ allowed: QAllowed) -> (Bool, Int) {
        var i = from
        var flag = false
        while i < uc.count && !isSpace(uc[i]) {
            if needsEncoding(uc[i], allowed) { flag = true }
            i += 1
        }
        return (flag, i)
    }

    static func wordRun(_ uc: [UInt32], from: Int, _ allowed: QAllowed) -> (Bool, Int) {
        var (flag, i) = word(uc, from: from, allowed)
        guard flag else { return (false, i) }
        var j = i
        while j < uc.count {
            if isSpace(uc[j]) { j += 1; continue }
            let (f, k) = word(uc, from: j, allowed)
            if !f { break }
            i = k
            j = k
        }
        return (true, i)
    }

    static func encodeRun(_ run: ArraySlice<UInt32>, charset: String, flag: Bool, allowed: QAllowed,
                          offset: Int, into out: inout [UInt8]) -> Bool {
        guard let plain = CharsetConverter.encode(run, to: charset) else { return false }
        if !flag {
            var bytes = plain.bytes
            if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
            out.append(contentsOf: bytes)
            return true
        }
        guard let q = encodeWords(run, charset: charset, allowed: allowed, offset: offset, useQ: true),
              let b = encodeWords(run, charset: charset, allowed: allowed, offset: offset, useQ: false) else { return false }
        out.append(contentsOf: q.count < b.count ? q : b)
        return true
    }

    static func encodeWords(_ run: ArraySlice<UInt32>, charset: String, allowed: QAllowed, offset: Int, useQ: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        var rest = run
        var offset = offset
        var first = true
        while !rest.isEmpty {
            if !first { out.append(0x20) }
            first = false
            var j = max((foldLength - offset) / 2, 0)
            if j >= rest.count {
                j = rest.count
            } else {
                var i = j
                while i > 0 {
                    let a = rest[rest.startIndex + i - 1], b = rest[rest.startIndex + i]
                    if GraphemeBreak.isBreak(a, b) { j = i; break }
                    i -= 1
                }
                if j == 0 { j = 1 } // cannot happen (offset <= 27); keeps progress certain
            }
            let piece = rest.prefix(j)
            guard let conv = CharsetConverter.encode(piece, to: charset) else { return nil }
            var bytes = conv.bytes
            if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
            if useQ { qWord(bytes, charset: charset, allowed: allowed, into: &out) }
            else { bWord(bytes, charset: charset, into: &out) }
            offset = 0
            rest = rest.dropFirst(j)
        }
        return out
    }

    static func qWord(_ bytes: [UInt8], charset: String, allowed: QAllowed, into out: inout [UInt8]) {
        out.append(contentsOf: Array("=?".utf8))
        out.append(contentsOf: Array(charset.utf8))
        out.append(contentsOf: Array("?Q?".utf8))
        for c in bytes {
            if c == 0x20 {
                out.append(UInt8(ascii: "_"))
            } else if needsEncoding(UInt32(c), allowed) {
                out.append(UInt8(ascii: "="))
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 0x0F)])
            } else {
                out.append(c)
            }
        }
        out.append(contentsOf: Array("?=".utf8))
    }

    static func bWord(_ bytes: [UInt8], charset: String, into out: inout [UInt8]) {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        out.append(contentsOf: Array("=?".utf8))
        out.append(contentsOf: Array(charset.utf8))
        out.append(contentsOf: Array("?B?".utf8))
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = Int(bytes[i]), b1 = n > 1 ? Int(bytes[i + 1]) : 0, b2 = n > 2 ? Int(bytes[i + 2]) : 0
            out.append(table[b0 >> 2])
            out.append(table[((b0 & 3) << 4) | (b1 >> 4)])
            out.append(n < 2 ? UInt8(ascii: "=") : table[((b1 & 15) << 2) | (b2 >> 6)])
            out.append(n < 3 ? UInt8(ascii: "=") : table[b2 & 63])
            i += n
        }
        out.append(contentsOf: Array("?=".utf8))
    }
}
