#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MailCore
import MaildirCore

extension MailboxSession {
    /// SEARCH / UID SEARCH (RFC 3501 §6.4.4), ESEARCH answers with RETURN (RFC 4731).
    func search(_ tag: [UInt8], _ command: SearchCommand, uid: Bool, into w: inout ResponseWriter) {
        if let charset = command.charset?.uppercased(), !["US-ASCII", "UTF-8"].contains(charset) {
            w.tagged(tag, .no, .badCharset(["US-ASCII", "UTF-8"]), "Unsupported charset")
            return
        }
        let matches = matching(command.key)
        guard let s = selected else { return }
        let numbers = matches.map { uid ? s.messages[$0].uid : UInt32($0 + 1) }
        // RFC 7162 §3.1.5: a SEARCH with MODSEQ names the highest MODSEQ of what it found.
        let highest: UInt64? = command.key.mentionsModSeq && !matches.isEmpty ? matches.map { s.messages[$0].modSeq }.max() : nil
        // RFC 9051 §6.4.4: an IMAP4rev2 client gets ESEARCH, RETURN (ALL) when it named nothing.
        if let options = command.returnOptions ?? (rev2 ? Self.returnAll : nil) {
            if options.save { savedResult = matches.map { s.messages[$0].uid } }
            var line = "ESEARCH (TAG "
            var tw = ResponseWriter()
            tw.string(tag)
            line += String(decoding: tw.bytes, as: UTF8.self) + ")"
            if uid { line += " UID" }
            if options.min, let first = numbers.first { line += " MIN \(first)" }
            if options.max, let last = numbers.last { line += " MAX \(last)" }
            if options.count { line += " COUNT \(numbers.count)" }
            if options.all, !numbers.isEmpty {
                line += " ALL " + String(decoding: SequenceSet.format(numbers), as: UTF8.self)
            }
            if let highest { line += " MODSEQ \(highest)" }
            if !(options.save && !options.min && !options.max && !options.count && !options.all) {
                w.untagged(line)
            }
        } else {
            // Written as bytes: an UNSEEN of a big folder names thousands of messages.
            w.append("* SEARCH")
            for n in numbers {
                w.space()
                w.appendDecimal(UInt64(n))
            }
            if let highest {
                w.append(" (MODSEQ ")
                w.appendDecimal(highest)
                w.append(")")
            }
            w.crlf()
        }
        w.tagged(tag, .ok, nil, "SEARCH done.")
    }

    func matches(_ key: SearchKey, index: Int) -> Bool {
        guard let s = selected, index < s.messages.count else { return false }
        let m = s.messages[index]
        let count = UInt32(s.messages.count)
        switch key {
        case .all: return true
        case .flag(let flag, let set):
            return Self.flags(of: m).contains(flag) == set
        case .recent: return m.recent
        case .new: return m.recent && !m.isSeen
        case .old: return !m.recent
        case .sequence(let set):
            if set.isSavedResult { return savedResult.contains(m.uid) }
            return set.contains(UInt32(index + 1), largest: count)
        case .uid(let set):
            if set.isSavedResult { return savedResult.contains(m.uid) }
            return set.contains(m.uid, largest: s.messages.last?.uid ?? 0)
        case .not(let k): return !matches(k, index: index)
        case .or(let a, let b): return matches(a, index: index) || matches(b, index: index)
        case .and(let keys): return keys.allSatisfy { matches($0, index: index) }
        case .larger(let n): return size(at: index) > Int(n)
        case .smaller(let n): return size(at: index) < Int(n)
        case .from(let t): return headerContains("From", t, index)
        case .to(let t): return headerContains("To", t, index)
        case .cc(let t): return headerContains("Cc", t, index)
        case .bcc(let t): return headerContains("Bcc", t, index)
        case .subject(let t): return headerContains("Subject", t, index)
        case .header(let name, let t):
            return headerContains(String(decoding: name, as: UTF8.self), t, index)
        case .body(let t):
            if let large = largeMessageContains(at: index, t, wholeMessage: false) { return large }
            guard var v = view(at: index) else { return false }
            return Self.contains(v.section(Section(text: .text)), t)
        case .text(let t):
            if let large = largeMessageContains(at: index, t, wholeMessage: true) { return large }
            guard let v = view(at: index) else { return false }
            return Self.contains(v.bytes, t)
        case .before(let d): return internalDay(m) < d
        case .on(let d): return internalDay(m) == d
        case .since(let d): return internalDay(m) >= d
        case .sentBefore(let d): return sentDay(index).map { $0 < d } ?? false
        case .sentOn(let d): return sentDay(index).map { $0 == d } ?? false
        case .sentSince(let d): return sentDay(index).map { $0 >= d } ?? false
        case .older(let seconds): return internalSeconds(m) <= Int64(time(nil)) - Int64(seconds)
        case .younger(let seconds): return internalSeconds(m) >= Int64(time(nil)) - Int64(seconds)
        case .modSeq(let n): return m.modSeq >= n   // RFC 7162 §3.1.5
        }
    }

    func headerContains(_ name: String, _ text: [UInt8], _ index: Int) -> Bool {
        // The envelope fields come from the folder's summaries (the first such header, as
        // ENVELOPE shows it); other headers from the message.
        let values: [[UInt8]]
        if let known = summaryHeader(name, at: index) {
            values = known.map { [$0] } ?? []
        } else if let block = largeHeaderBlock(at: index) {
            values = block.headers(named: name).map { MessageView.trim(HeaderUnfoldingShim.unfold($0.value)) }
        } else {
            guard let v = view(at: index) else { return false }
            values = v.headers.headers(named: name).map { MessageView.trim(HeaderUnfoldingShim.unfold($0.value)) }
        }
        if text.isEmpty { return !values.isEmpty }  // RFC 3501 §6.4.4: empty string matches any header
        return values.contains { raw in
            Self.contains(raw, text) || Self.contains(RFC2047Decoder.decode(raw, targetCharset: "UTF-8"), text)
        }
    }

    /// Case-insensitive (ASCII) substring test (RFC 3501 §6.4.4).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard haystack.count >= needle.count else { return false }
        let n = Parser.lowercasedBytes(needle)
        let first = n[0]
        var i = 0
        let last = haystack.count - n.count
        while i <= last {
            let c = haystack[i]
            if (c >= 65 && c <= 90 ? c + 32 : c) == first {
                var j = 1
                while j < n.count {
                    let h = haystack[i + j]
                    if (h >= 65 && h <= 90 ? h + 32 : h) != n[j] { break }
                    j += 1
                }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }

    func internalDay(_ m: Message) -> IMAPDate {
        let c = CivilDateTime(epochSeconds: internalSeconds(m))
        return IMAPDate(year: Int(c.year), month: c.month, day: c.day)
    }

    /// The Date: header's calendar day in its own zone (RFC 3501 §6.4.4 SENTON and friends).
    func sentDay(_ index: Int) -> IMAPDate? {
        guard let value = header("Date", at: index), let date = RFC5322Date(parsing: value) else { return nil }
        let c = CivilDateTime(epochSeconds: date.epochSeconds + Int64(date.offsetMinutes) * 60)
        return IMAPDate(year: Int(c.year), month: c.month, day: c.day)
    }

    // MARK: SORT (RFC 5256 §3)

    func sort(_ tag: [UInt8], _ criteria: [SortCriterion], _ key: SearchKey, uid: Bool, into w: inout ResponseWriter) {
        guard let s = selected else { return }
        let found = matching(key)
        func value(_ index: Int, _ key: SortCriterion.Key) -> [UInt8] {
            switch key {
            case .arrival: return Self.padded(UInt64(s.messages[index].uid))
            case .size: return Self.padded(UInt64(size(at: index)))
            case .date:
                let seconds = header("Date", at: index).flatMap { RFC5322Date(parsing: $0) }?.epochSeconds
                    ?? internalSeconds(s.messages[index])
                return Self.padded(UInt64(max(0, seconds)))
            case .subject:
                return Parser.lowercasedBytes(Self.baseSubject(header("Subject", at: index) ?? []))
            case .from, .displayFrom, .to, .displayTo, .cc:
                let name = key == .from || key == .displayFrom ? "From" : key == .cc ? "Cc" : "To"
                let first = MessageView.addresses(header(name, at: index)).first
                return Parser.lowercasedBytes(first?.mailbox ?? [])
            }
        }
        let sorted = found.sorted { a, b in
            for criterion in criteria {
                let va = value(a, criterion.key), vb = value(b, criterion.key)
                if va == vb { continue }
                let less = va.lexicographicallyPrecedes(vb)
                return criterion.reverse ? !less : less
            }
            return s.messages[a].uid < s.messages[b].uid
        }
        w.untagged("SORT" + sorted.map { " \(uid ? s.messages[$0].uid : UInt32($0 + 1))" }.joined())
        w.tagged(tag, .ok, nil, "SORT done.")
    }

    static func padded(_ n: UInt64) -> [UInt8] {
        let text = String(n)
        return Array((String(repeating: "0", count: max(0, 20 - text.count)) + text).utf8)
    }

    /// RFC 5256 §2.1 base subject, simplified: leading Re:/Fw:/Fwd: and [blob]s and trailing (fwd) removed.
    static func baseSubject(_ subject: [UInt8]) -> [UInt8] {
        baseSubjectAndReply(subject).base
    }

    /// The base subject, and whether a reply or forward marker was removed (RFC 5256 §2.1, §4).
    static func baseSubjectAndReply(_ subject: [UInt8]) -> (base: [UInt8], isReply: Bool) {
        var isReply = false
        var s = Parser.lowercasedBytes(RFC2047Decoder.decode(subject, targetCharset: "UTF-8"))[...]
        var changed = true
        while changed {
            changed = false
            while let f = s.first, f == 32 || f == 9 { s = s.dropFirst(); changed = true }
            for prefix in ["re:", "fw:", "fwd:"] where s.starts(with: prefix.utf8) {
                s = s.dropFirst(prefix.utf8.count)
                changed = true
                isReply = true
            }
            if s.first == UInt8(ascii: "["), let close = s.firstIndex(of: UInt8(ascii: "]")), close != s.index(before: s.endIndex) {
                s = s[s.index(after: close)...]
                changed = true
            }
            if s.hasSuffixBytes("(fwd)") { s = s.dropLast(5); changed = true; isReply = true }
            while let l = s.last, l == 32 || l == 9 { s = s.dropLast(); changed = true }
        }
        return (Array(s), isReply)
    }
}

extension ArraySlice where Element == UInt8 {
    func hasSuffixBytes(_ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        return count >= s.count && Array(self.suffix(s.count)) == s
    }
}
