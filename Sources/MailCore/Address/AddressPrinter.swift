/// Courier's address printing rules (`rfc822tok_print`, `rfc822_print`, `rfc822_prname`).
public enum AddressPrinter {
    /// Appends one token: atoms and comments as written, specials as their byte, quoted strings
    /// re-quoted with `"` and a lone trailing `\` escaped.
    public static func append(_ token: AddressToken, to out: inout [UInt8]) {
        switch token.kind {
        case .atom, .comment:
            out.append(contentsOf: token.text)
        case .special(let c):
            out.append(c)
        case .quotedString:
            out.append(UInt8(ascii: "\""))
            let t = token.text
            var i = 0
            while i < t.count {
                let remaining = t.count - i
                if t[i] == UInt8(ascii: "\"") || (t[i] == UInt8(ascii: "\\") && remaining == 1) {
                    out.append(UInt8(ascii: "\\"))
                }
                if t[i] == UInt8(ascii: "\\"), remaining > 1 {
                    out.append(UInt8(ascii: "\\"))
                    i += 1
                }
                out.append(t[i])
                i += 1
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Prints tokens with a single space between two consecutive word-like tokens and nothing
    /// otherwise (`joe @ example . com` → `joe@example.com`).
    public static func print(tokens: [AddressToken]) -> [UInt8] {
        var out: [UInt8] = []
        append(tokens: tokens, to: &out)
        return out
    }

    static func append(tokens: [AddressToken], to out: inout [UInt8]) {
        var previousWord = false
        for t in tokens {
            let word = t.isWordLike
            if previousWord && word { out.append(0x20) }
            append(t, to: &out)
            previousWord = word
        }
    }

    /// Prints a whole list (`rfc822_print`): `name <addr>`, `addr (comment)` for old-style names,
    /// `<…>` around an unnamed address holding two consecutive words, `, ` between entries,
    /// a space after a group name or `;`, no comma before `;`.
    public static func print(_ list: AddressList) -> [UInt8] {
        var out: [UInt8] = []
        let entries = list.entries
        for (index, entry) in entries.enumerated() {
            let more = index + 1 < entries.count
            if !entry.hasAddress {
                append(tokens: entry.name, to: &out)
                if let last = entry.name.last, more,
                   last.isSpecial(UInt8(ascii: ":")) || last.isSpecial(UInt8(ascii: ";")) {
                    out.append(0x20)
                }
                continue
            }
            if entry.isOldStyle {
                append(tokens: entry.address, to: &out)
                out.append(0x20)
                append(tokens: entry.name, to: &out)
            } else {
                var braces = false
                if !entry.name.isEmpty {
                    append(tokens: entry.name, to: &out)
                    out.append(0x20)
                    braces = true
                } else {
                    let a = entry.address
                    for k in a.indices.dropLast() where a[k].isWordLike && a[k + 1].isWordLike {
                        braces = true
                    }
                }
                if braces { out.append(UInt8(ascii: "<")) }
                append(tokens: entry.address, to: &out)
                if braces { out.append(UInt8(ascii: ">")) }
            }
            if more {
                let next = entries[index + 1]
                if next.hasAddress || (next.name.first?.isWordLike ?? false) {
                    out.append(contentsOf: [UInt8(ascii: ","), 0x20])
                }
            }
        }
        return out
    }

    /// The display form of name tokens (`rfc822_prname`): words separated by one space,
    /// quoted strings unquoted and unescaped, comments without their parentheses.
    public static func displayName(_ name: [AddressToken]) -> [UInt8] {
        var out: [UInt8] = []
        var previousWord = false
        for t in name {
            let word = t.isWordLike
            if word && previousWord { out.append(0x20) }
            previousWord = word
            switch t.kind {
            case .quotedString:
                var i = 0
                while i < t.text.count {
                    if t.text[i] == UInt8(ascii: "\\"), i + 1 < t.text.count { i += 1 }
                    out.append(t.text[i])
                    i += 1
                }
            case .comment:
                if t.text.count > 2 { out.append(contentsOf: t.text[1..<(t.text.count - 1)]) }
            default:
                append(t, to: &out)
            }
        }
        return out
    }
}
