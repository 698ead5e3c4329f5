import MailCore

/// The generated reply headers: `References:`, the `Subject:` core and its wrapping
/// (spec/tools.md §2.3).
enum MailbotHeaders {
    /// Old References plus the old Message-ID, the last 20 ids, one per line with a
    /// 12-space continuation indent; ends with a newline. Empty if there are none.
    static func references(old: [UInt8], messageID: [UInt8]) -> [UInt8] {
        var all = old
        all.append(UInt8(ascii: ","))
        all.append(contentsOf: messageID)
        let ids = AddressList.parse(all).entries.filter(\.hasAddress)
        var out: [UInt8] = []
        for a in ids.suffix(20) {
            if !out.isEmpty { out.append(contentsOf: repeatElement(32, count: 12)) }
            out.append(UInt8(ascii: "<"))
            out.append(contentsOf: a.addressText)
            out.append(contentsOf: [UInt8(ascii: ">"), 10])
        }
        return out
    }

    /// The subject without leading `Re:`/`Fw:`/`Fwd:` markers and trailing `(fwd)`,
    /// keeping `[list]` blobs (RFC 5256 §2.1 base subject, loosely).
    static func coreSubject(_ subject: [UInt8]) -> [UInt8] {
        var s = subject[...]
        var changed = true
        while changed {
            changed = false
            while let f = s.first, CByteClass.isSpace(f) { s = s.dropFirst() }
            while let l = s.last, CByteClass.isSpace(l) { s = s.dropLast() }
            let lower = CByteClass.lowercased(s)
            for prefix in ["re:", "fwd:", "fw:"] where lower.starts(with: Array(prefix.utf8)) {
                s = s.dropFirst(prefix.utf8.count)
                changed = true
                break
            }
            if changed { continue }
            if lower.count >= 5, lower.suffix(5).elementsEqual("(fwd)".utf8) {
                s = s.dropLast(5)
                changed = true
            }
        }
        return Array(s)
    }

    /// `replyall`'s Cc: the original To and Cc minus the reply's To addresses and duplicates
    /// (the domain part compared without case).
    static func carbonCopy(toAndCc: [[UInt8]], replyTo: [UInt8]) -> [UInt8] {
        func key(_ a: ParsedAddress) -> [UInt8] {
            var t = a.addressText
            if let at = t.firstIndex(of: UInt8(ascii: "@")) {
                t = Array(t[..<at]) + CByteClass.lowercased(t[at...])
            }
            return t
        }
        var seen = Set(AddressList.parse(replyTo).entries.filter(\.hasAddress).map(key))
        var kept: [ParsedAddress] = []
        for value in toAndCc {
            for a in AddressList.parse(value).entries {
                if a.hasAddress {
                    let k = key(a)
                    if seen.contains(k) { continue }
                    seen.insert(k)
                }
                kept.append(a)
            }
        }
        return AddressList(entries: kept).printed
    }
}
