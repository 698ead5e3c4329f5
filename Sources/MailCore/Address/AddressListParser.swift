/// Courier's address-list parser (`rfc822a_alloc`), applied left to right over the tokens:
///
/// 1. Atoms and quoted strings followed by `:` are a group name (the entry's name includes the
///    `:`). A `;` is an entry of its own; spurious `,` are skipped.
/// 2. If a `<` comes before the next `,` or `;`, the tokens before it are the display name
///    (kept as they are when they are all atoms and comments, otherwise merged into one quoted
///    string spanning their input text; comments become quoted strings), and the tokens up to
///    `>` (or the end of the input) are the address.
/// 3. Otherwise the address is old style: it runs until `,`, `;` or two word-like tokens in a row
///    (comments ignored for that test); its comments are removed and the last one is the name.
public enum AddressListParser {
    /// Parses `tokens`, which were produced from `source` (needed to merge display names).
    public static func parse(_ tokens: [AddressToken], source: [UInt8]) -> [ParsedAddress] {
        var entries: [ParsedAddress] = []
        let n = tokens.count
        var pos = 0
        while pos < n {
            // 1. Group name: phrase ":".
            var i = pos
            while i < n, tokens[i].isAtomOrQuoted { i += 1 }
            if i < n, tokens[i].isSpecial(UInt8(ascii: ":")) {
                entries.append(ParsedAddress(name: Array(tokens[pos...i]), address: []))
                pos = i + 1
                continue
            }

            if tokens[pos].isSpecial(UInt8(ascii: ",")) || tokens[pos].isSpecial(UInt8(ascii: ";")) {
                if tokens[pos].isSpecial(UInt8(ascii: ";")) {
                    entries.append(ParsedAddress(name: [tokens[pos]], address: []))
                }
                pos += 1
                continue
            }

            // 2. New style: phrase <route-addr>.
            i = pos
            while i < n, !tokens[i].isSpecial(UInt8(ascii: ";")), !tokens[i].isSpecial(UInt8(ascii: ",")),
                  !tokens[i].isSpecial(UInt8(ascii: "<")) {
                i += 1
            }
            if i < n, tokens[i].isSpecial(UInt8(ascii: "<")) {
                var name = Array(tokens[pos..<i])
                let simple = name.allSatisfy { t in
                    if case .atom = t.kind { return true }
                    if case .comment = t.kind { return true }
                    return false
                }
                if !simple, let first = name.first, let last = name.last {
                    let lower = max(0, min(first.offset, source.count))
                    let upper = max(lower, min(last.endOffset, source.count))
                    name = [AddressToken(kind: .quotedString, text: Array(source[lower..<upper]), offset: first.offset)]
                }
                for k in name.indices {
                    if case .comment = name[k].kind { name[k].kind = .quotedString }
                }
                var k = i + 1
                while k < n, !tokens[k].isSpecial(UInt8(ascii: ">")) { k += 1 }
                entries.append(ParsedAddress(name: name, address: Array(tokens[(i + 1)..<k])))
                pos = k < n ? k + 1 : k
                continue
            }

            // 3. Old style.
            var previousWasWord = false
            i = pos
            while i < n, !tokens[i].isSpecial(UInt8(ascii: ",")), !tokens[i].isSpecial(UInt8(ascii: ";")) {
                if case .comment = tokens[i].kind {
                    i += 1
                    continue
                }
                if tokens[i].isAtomOrQuoted {
                    if previousWasWord { break }
                    previousWasWord = true
                } else {
                    previousWasWord = false
                }
                i += 1
            }
            if i == pos {
                pos += 1
                continue
            }
            var address: [AddressToken] = []
            var lastComment: AddressToken?
            for t in tokens[pos..<i] {
                if case .comment = t.kind { lastComment = t } else { address.append(t) }
            }
            entries.append(ParsedAddress(name: lastComment.map { [$0] } ?? [], address: address))
            pos = i
        }
        return entries
    }
}
