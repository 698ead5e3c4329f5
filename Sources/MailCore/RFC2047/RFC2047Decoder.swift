/// RFC 2047 encoded-word decoding as Courier does it (`rfc2047_decoder`,
/// `rfc822_decode_rfc2047_atom`).
///
/// The text is split into plain runs and encoded words `=?charset[*lang]?Q|B?text?=`.
/// Whitespace between two encoded words is dropped (RFC 2047 §6.2); all other text is
/// kept. Q: `_` is a space and `=` takes the next two characters as hex (non-hex digits
/// count as 0). B: groups of four characters, characters outside the alphabet count as 0.
public enum RFC2047Decoder {
    /// One piece of decoded header text.
    public struct Piece: Sendable, Equatable {
        /// The charset of `content`: the word's charset, or `utf-8` for plain text.
        public var charset: [UInt8]
        /// The RFC 2231 language suffix of the word, if any.
        public var language: [UInt8]
        public var content: [UInt8]
    }

    /// The pieces of `text` in order (plain runs are tagged `utf-8`, as in Courier).
    /// A NUL byte ends the text.
    public static func pieces(_ input: [UInt8]) -> [Piece] {
        var text = input
        if let nul = text.firstIndex(of: 0) { text.removeSubrange(nul...) }
        var out: [Piece] = []
        let utf8 = Array("utf-8".utf8)
        var p = 0
        while p < text.count {
            var i = p
            while i < text.count && !(text[i] == UInt8(ascii: "=") && i + 1 < text.count && text[i + 1] == UInt8(ascii: "?")) {
                i += 1
            }
            if i > p { out.append(Piece(charset: utf8, language: [], content: Array(text[p..<i]))) }
            p = i
            if p >= text.count { break }
            guard let word = decodeWord(text, at: p) else {
                out.append(Piece(charset: utf8, language: [], content: [UInt8(ascii: "="), UInt8(ascii: "?")]))
                p += 2
                continue
            }
            out.append(word.piece)
            p = word.end
            var j = p
            while j < text.count, text[j] == 0x20 || text[j] == 0x09 || text[j] == 0x0D || text[j] == 0x0A { j += 1 }
            if j + 1 < text.count, text[j] == UInt8(ascii: "="), text[j + 1] == UInt8(ascii: "?"),
               decodeWord(text, at: j) != nil {
                p = j
            }
        }
        return out
    }

    static let hexDigits = Array("0123456789ABCDEFabcdef".utf8)

    /// Courier's `nyb`: the hex value, lowercase allowed, anything else 0.
    static func nybble(_ c: UInt8) -> Int {
        guard let i = hexDigits.firstIndex(of: c) else { return 0 }
        return i > 15 ? i - 6 : i
    }

    /// Decodes the encoded word starting at `start` (which holds `=?`); nil if there is none.
    public static func decodeWord(_ text: [UInt8], at start: Int) -> (piece: Piece, end: Int)? {
        let cnt = text.count
        guard start + 1 < cnt, text[start] == UInt8(ascii: "="), text[start + 1] == UInt8(ascii: "?") else { return nil }
        let q = UInt8(ascii: "?")
        var i = start + 2
        while i < cnt && text[i] != q { i += 1 }
        guard i < cnt else { return nil }
        let charsetEnd = i
        i += 1
        let encIndex = i
        while i < cnt && text[i] != q { i += 1 }
        guard i < cnt else { return nil }
        i += 1
        let contentStart = i
        while true {
            if cnt - i < 2 { return nil }
            if text[i] == q && text[i + 1] == UInt8(ascii: "=") { break }
            i += 1
        }
        var charset = Array(text[(start + 2)..<charsetEnd])
        var language: [UInt8] = []
        if let star = charset.firstIndex(of: UInt8(ascii: "*")) {
            language = Array(charset[(star + 1)...])
            charset.removeSubrange(star...)
        }
        let content = text[contentStart..<i]
        var decoded: [UInt8] = []
        switch text[encIndex] {
        case UInt8(ascii: "q"), UInt8(ascii: "Q"):
            var j = contentStart
            while j < i {
                let c = text[j]
                if c == UInt8(ascii: "=") {
                    // The two following characters are taken even when they are the "?=".
                    let h = j + 1 < cnt ? nybble(text[j + 1]) : 16
                    let l = j + 2 < cnt ? nybble(text[j + 2]) : 16
                    decoded.append(UInt8(truncatingIfNeeded: h * 16 + l))
                    j += 3
                    continue
                }
                decoded.append(c == UInt8(ascii: "_") ? 0x20 : c)
                j += 1
            }
        case UInt8(ascii: "b"), UInt8(ascii: "B"):
            decoded = decodeBase64(content)
        default:
            return nil
        }
        return (Piece(charset: charset, language: language, content: decoded), i + 2)
    }

    /// Base64 as Courier decodes encoded words: whole quanta only; characters outside the
    /// alphabet count as 0, `=` as 99 (garbage, not an error).
    static func decodeBase64(_ s: ArraySlice<UInt8>) -> [UInt8] {
        let chars = Array(s)
        var out: [UInt8] = []
        let whole = chars.count / 4 * 4
        var j = 0
        while j < whole {
            let w = Int(Base64Decoder.value(chars[j]) ?? 0), x = Int(Base64Decoder.value(chars[j + 1]) ?? 0)
            let y = Int(Base64Decoder.value(chars[j + 2]) ?? 0), z = Int(Base64Decoder.value(chars[j + 3]) ?? 0)
            out.append(UInt8(truncatingIfNeeded: (w << 2) | (x >> 4)))
            if chars[j + 2] != UInt8(ascii: "=") { out.append(UInt8(truncatingIfNeeded: (x << 4) | (y >> 2))) }
            if chars[j + 3] != UInt8(ascii: "=") { out.append(UInt8(truncatingIfNeeded: (y << 6) | z)) }
            j += 4
        }
        return out
    }

    /// Decodes an unstructured header value for display in `targetCharset`, handing each
    /// converted piece to `emit` (pieces may be empty). A word in a charset iconv does not
    /// know becomes `[unknown character set: <cs> -> <target>]`. Each piece is cut at its
    /// first NUL byte, as Courier's C strings are.
    public static func display(_ text: [UInt8], targetCharset: String, emit: ([UInt8]) -> Void) {
        for piece in pieces(text) {
            displayPiece(piece, targetCharset: targetCharset, emit: emit)
        }
    }

    /// Converts one decoded piece for display (Courier's `rfc822_display_addr_cb`).
    public static func displayPiece(_ piece: Piece, targetCharset: String, emit: ([UInt8]) -> Void) {
        var content = piece.content
        if let nul = content.firstIndex(of: 0) { content.removeSubrange(nul...) }
        let from = String(decoding: piece.charset, as: UTF8.self)
        if let r = CharsetConverter.convert(content, from: from, to: targetCharset) {
            var bytes = r.bytes
            if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
            emit(bytes)
        } else {
            emit(Array("[unknown character set: ".utf8))
            emit(piece.charset)
            emit(Array(" -> ".utf8))
            emit(Array(targetCharset.utf8))
            emit(Array("]".utf8))
        }
    }

    /// Decodes an unstructured header value to `targetCharset` in one buffer.
    public static func decode(_ text: [UInt8], targetCharset: String) -> [UInt8] {
        var out: [UInt8] = []
        display(text, targetCharset: targetCharset) { out.append(contentsOf: $0) }
        return out
    }
}
