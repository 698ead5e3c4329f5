import MailCore
import ToolSupport

/// `-H`/`-O` over an address list, and the display of address headers for `-u`
/// (Courier `rfc2047_print_unicodeaddr`, `rfc822_display_name`, `rfc2047_encode_header_addr`).
///
/// Observed on 2.9.3: `xn--` domains are shown as written by `-H`, and `-O` keeps
/// addresses only converted to UTF-8 (no IDN conversion either way).
enum ReformimeAddressCoding {
    /// Courier's `rfc822hdr_is_addr`.
    static func isAddressHeader(_ name: [UInt8]) -> Bool {
        ["from", "to", "cc", "bcc", "resent-from", "resent-to", "resent-cc", "resent-bcc"].contains {
            MIMEHeaderReader.nameEquals(name, $0)
        }
    }

    /// RFC 822 §3.3 specials (Courier's `RFC822_SPECIALS`): a display name holding one is quoted.
    static func isSpecial(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "\\"),
             UInt8(ascii: ","), UInt8(ascii: "."), UInt8(ascii: "\""):
            return true
        default:
            return false
        }
    }

    /// Displays an address list header in `charset`: each address as `name <address>` with the
    /// name RFC 2047-decoded (quoted when it holds a special), or the bare address when there is
    /// no name; group names and `;` as written. `separator` gets `", "` between addresses and
    /// `" "` after a group name (Courier's wrap points).
    ///
    /// Tokenizer repairs do not stop anything: upstream's `-u` conversion ends at such a header,
    /// but 2.9.3 prints the repaired list (observed: `From: "unterminated` → `"unterminated"`).
    static func display(_ value: [UInt8], charset: String, emit: ([UInt8]) -> Void, separator: (String) -> Void) {
        display(AddressList.parse(value), charset: charset, emit: emit, separator: separator)
    }

    static func display(_ list: AddressList, charset: String, emit: ([UInt8]) -> Void, separator: (String) -> Void) {
        var pendingSeparator: String?
        for entry in list.entries {
            if !entry.hasAddress {
                // Group name (`Team:`) or group end (`;`).
                let name = displayName(entry.name, charset: charset)
                if name.count == 1 { pendingSeparator = nil }
                if let s = pendingSeparator { separator(s) }
                emit(name)
                if name.count > 1 { separator(" ") }
                pendingSeparator = nil
                continue
            }
            if let s = pendingSeparator { separator(s) }
            let name = entry.name.isEmpty ? [] : displayName(entry.name, charset: charset)
            var braces = false
            // Courier converts the decoded name once more, from UTF-8 to the display charset.
            if let converted = CharsetConverter.convert(name, from: "utf-8", to: charset) {
                var text = converted.bytes
                if let nul = text.firstIndex(of: 0) { text.removeSubrange(nul...) }
                if name.contains(where: isSpecial) {
                    var quoted: [UInt8] = [UInt8(ascii: "\"")]
                    for b in text {
                        if b == UInt8(ascii: "\\") || b == UInt8(ascii: "\"") { quoted.append(UInt8(ascii: "\\")) }
                        quoted.append(b)
                    }
                    quoted.append(UInt8(ascii: "\""))
                    emit(quoted)
                    braces = true
                } else if !text.isEmpty {
                    emit(text)
                    braces = true
                }
            } else {
                emit(Array("\"(unknown character set)\"".utf8))
                braces = true
            }
            if braces { emit(Array(" <".utf8)) }
            emit(AddressPrinter.print(tokens: entry.address))
            if braces { emit([UInt8(ascii: ">")]) }
            pendingSeparator = ", "
        }
    }

    /// The display name of `tokens` (`rfc822_display_name_int`): one space between words,
    /// quoted strings and comments unescaped and RFC 2047-decoded as unstructured text, atoms
    /// that are encoded words decoded (no space between two adjacent encoded words).
    static func displayName(_ tokens: [AddressToken], charset: String) -> [UInt8] {
        var out: [UInt8] = []
        var previousWord = false
        for (k, token) in tokens.enumerated() {
            var word = token.isWordLike
            if word && previousWord { out.append(0x20) }
            defer { previousWord = word }
            switch token.kind {
            case .quotedString, .comment:
                var text = token.text[...]
                if case .comment = token.kind {
                    text = text.count > 2 ? text.dropFirst().dropLast() : []
                }
                if let nul = text.firstIndex(of: 0) { text = text[..<nul] }
                var unescaped: [UInt8] = []
                var i = text.startIndex
                while i < text.endIndex {
                    if text[i] == UInt8(ascii: "\\"), i + 1 < text.endIndex { i += 1 }
                    unescaped.append(text[i])
                    i += 1
                }
                RFC2047Decoder.display(unescaped, targetCharset: charset) { out.append(contentsOf: $0) }
            case .special(let c):
                out.append(c)
            case .atom:
                guard let decoded = RFC2047Decoder.decodeWord(token.text, at: 0) else {
                    out.append(contentsOf: token.text)
                    continue
                }
                RFC2047Decoder.displayPiece(decoded.piece, targetCharset: charset) { out.append(contentsOf: $0) }
                if k + 1 < tokens.count, case .atom = tokens[k + 1].kind,
                   RFC2047Decoder.decodeWord(tokens[k + 1].text, at: 0) != nil {
                    word = false
                }
            }
        }
        return out
    }

    /// `-H`: prints the decoded list with a line break after each separator.
    static func decode(_ ctx: ReformimeContext) -> Int32 {
        let out = ctx.out
        display(ctx.options.headerText, charset: ctx.charset, emit: { out.write($0) },
                    separator: { s in
                        out.write(Array(s.utf8))
                        out.write(UInt8(ascii: "\n"))
                    })
        out.write(UInt8(ascii: "\n"))
        return 0
    }

    /// `-O`: the list re-encoded for a header (`rfc2047_encode_header_addr`).
    static func encode(_ ctx: ReformimeContext) -> Int32 {
        if let encoded = encodedList(ctx.options.headerText, charset: ctx.charset) {
            ctx.out.write(encoded)
            ctx.out.write(UInt8(ascii: "\n"))
        }
        return 0
    }

    /// The list with each display name encoded (plain, quoted, or RFC 2047 words) and the
    /// addresses converted to UTF-8; separators fold the line (`,` LF two spaces). Nil when a name or an
    /// address cannot be converted (Courier then prints nothing).
    static func encodedList(_ value: [UInt8], charset: String) -> [UInt8]? {
        final class Failed: @unchecked Sendable { var value = false }
        let failed = Failed()
        let transform = NameAddressTransform(name: { name in
            if let encoded = encodeName(name, charset: charset) { return encoded }
            failed.value = true
            return []
        }, address: { address in
            // `rfc822_encode_domain`: 2.9.3 converts the address to UTF-8 and leaves its domain as is.
            if let converted = CharsetConverter.convert(address, from: charset, to: "utf-8") {
                var bytes = converted.bytes
                if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
                return bytes
            }
            failed.value = true
            return []
        })
        let printed = AddressDisplayPrinter.print(AddressList.parse(value), transform: transform) { sep in
            var folded: [UInt8] = []
            var rest = sep[...]
            if rest.first == UInt8(ascii: ",") {
                folded.append(UInt8(ascii: ","))
                rest = rest.dropFirst()
            }
            folded.append(contentsOf: [UInt8(ascii: "\n"), 0x20])
            folded.append(contentsOf: rest)
            return folded
        }
        return failed.value ? nil : printed
    }

    /// One display name for a header: ASCII without specials as is, ASCII with specials
    /// quoted (`\` before `"` and `\`), anything else as RFC 2047 words (phrase rules).
    static func encodeName(_ name: [UInt8], charset: String) -> [UInt8]? {
        var text = name
        if let nul = text.firstIndex(of: 0) { text.removeSubrange(nul...) }
        if text.contains(where: { $0 >= 0x80 }) {
            return RFC2047Encoder.encode(text, charset: charset, allowed: .word)
        }
        if !text.contains(where: isSpecial) { return text }
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        for b in text {
            if b == UInt8(ascii: "\\") || b == UInt8(ascii: "\"") { quoted.append(UInt8(ascii: "\\")) }
            quoted.append(b)
        }
        quoted.append(UInt8(ascii: "\""))
        return quoted
    }
}
