import IMAP
import MailCore
import Maildir
import MaildirCore

/// A SEARCH key prepared once per command (RFC 3501 §6.4.4), so that the per-message test of
/// a big folder does no work that does not depend on the message: the needle is lower-cased
/// once, the header name is resolved once to the summary field that holds it, system flags
/// become bit tests, and the folder's summaries are looked up once per message however many
/// header keys there are. Keys without a prepared form keep `matches(_:index:)`.
indirect enum PreparedSearchKey {
    case all
    /// `\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft` set (or not) in the file name.
    case systemFlag(bit: UInt8, set: Bool)
    /// A header the summaries keep (FROM, SUBJECT, HEADER Date …); `needle` lower-cased.
    case summaryField(SummaryField, needle: [UInt8])
    case internalDay(DayComparison, IMAPDate)
    case not(PreparedSearchKey)
    case or(PreparedSearchKey, PreparedSearchKey)
    case and([PreparedSearchKey])
    case general(SearchKey)

    /// The header fields of a message summary (`MailboxSession.summaryFields`).
    enum SummaryField {
        case date, subject, from, sender, replyTo, to, cc, bcc, inReplyTo, messageID, references

        init?(lowerCasedName name: String) {
            switch name {
            case "date": self = .date
            case "subject": self = .subject
            case "from": self = .from
            case "sender": self = .sender
            case "reply-to": self = .replyTo
            case "to": self = .to
            case "cc": self = .cc
            case "bcc": self = .bcc
            case "in-reply-to": self = .inReplyTo
            case "message-id": self = .messageID
            case "references": self = .references
            default: return nil
            }
        }

        /// The raw (folded) value in `summary`; nil when the message has no such header.
        func raw(in summary: MessageSummary) -> [UInt8]? {
            let e = summary.envelope
            switch self {
            case .date: return e.date
            case .subject: return e.subject
            case .from: return e.from
            case .sender: return e.sender
            case .replyTo: return e.replyTo
            case .to: return e.to
            case .cc: return e.cc
            case .bcc: return e.bcc
            case .inReplyTo: return e.inReplyTo
            case .messageID: return e.messageID
            case .references: return summary.references
            }
        }
    }

    /// BEFORE, ON, SINCE: the internal date's day against the key's.
    enum DayComparison { case before, on, since }

    init(_ key: SearchKey) {
        switch key {
        case .all: self = .all
        case .flag(let flag, let set):
            if let bit = Self.systemBit(flag) { self = .systemFlag(bit: bit, set: set) } else { self = .general(key) }
        case .from(let t): self = .summaryField(.from, needle: Parser.lowercasedBytes(t))
        case .to(let t): self = .summaryField(.to, needle: Parser.lowercasedBytes(t))
        case .cc(let t): self = .summaryField(.cc, needle: Parser.lowercasedBytes(t))
        case .bcc(let t): self = .summaryField(.bcc, needle: Parser.lowercasedBytes(t))
        case .subject(let t): self = .summaryField(.subject, needle: Parser.lowercasedBytes(t))
        case .header(let name, let t):
            let lower = String(decoding: Parser.lowercasedBytes(name), as: UTF8.self)
            if let field = SummaryField(lowerCasedName: lower) {
                self = .summaryField(field, needle: Parser.lowercasedBytes(t))
            } else {
                self = .general(key)
            }
        case .before(let d): self = .internalDay(.before, d)
        case .on(let d): self = .internalDay(.on, d)
        case .since(let d): self = .internalDay(.since, d)
        case .not(let k): self = .not(PreparedSearchKey(k))
        case .or(let a, let b): self = .or(PreparedSearchKey(a), PreparedSearchKey(b))
        case .and(let keys): self = .and(keys.map(PreparedSearchKey.init))
        default: self = .general(key)
        }
    }

    static func systemBit(_ flag: Flag) -> UInt8? {
        typealias M = MailboxSession.Message
        if flag == .seen { return M.seenBit }
        if flag == .answered { return M.answeredBit }
        if flag == .flagged { return M.flaggedBit }
        if flag == .deleted { return M.deletedBit }
        if flag == .draft { return M.draftBit }
        return nil
    }
}

extension MailboxSession {
    /// Indices of messages matching `key`, in order.
    func matching(_ key: SearchKey) -> [Int] {
        guard let s = selected else { return [] }
        let prepared = PreparedSearchKey(key)
        let summaries = FolderSummaries.shared(folderPath: s.directory)
        var result: [Int] = []
        for index in s.messages.indices {
            var summary: StoredSummary?? = nil   // fetched at most once per message
            if evaluate(prepared, index, s.messages[index], summaries, readOnly: s.readOnly, &summary) {
                result.append(index)
            }
        }
        return result
    }

    private func evaluate(_ key: PreparedSearchKey, _ index: Int, _ m: Message, _ summaries: FolderSummaries,
                          readOnly: Bool, _ summary: inout StoredSummary??) -> Bool {
        switch key {
        case .all: return true
        case .systemFlag(let bit, let set): return (m.systemFlags & bit != 0) == set
        case .summaryField(let field, let needle):
            if summary == nil {
                summary = .some(summaries.stored(baseName: m.fileName.baseName, readOnly: readOnly) {
                    filePath(m).flatMap(LargeMessage.summary)
                })
            }
            // A message that cannot be read matches no header key.
            guard let known = summary ?? nil, let raw = field.raw(in: known.summary) else { return false }
            return Self.headerValueContains(raw, lowerCasedNeedle: needle)
        case .internalDay(let comparison, let day):
            let mine = internalDay(m)
            switch comparison {
            case .before: return mine < day
            case .on: return mine == day
            case .since: return mine >= day
            }
        case .not(let k): return !evaluate(k, index, m, summaries, readOnly: readOnly, &summary)
        case .or(let a, let b):
            return evaluate(a, index, m, summaries, readOnly: readOnly, &summary)
                || evaluate(b, index, m, summaries, readOnly: readOnly, &summary)
        case .and(let keys):
            for k in keys where !evaluate(k, index, m, summaries, readOnly: readOnly, &summary) { return false }
            return true
        case .general(let k): return matches(k, index: index)
        }
    }

    /// Whether a summary's raw header value, unfolded and trimmed as `summaryHeader` gives it,
    /// contains the needle as it is or after RFC 2047 decoding (RFC 3501 §6.4.4: an empty
    /// needle matches any present header). Decoding is skipped when it cannot change the
    /// value: plain ASCII without `=?` or NUL decodes to itself.
    static func headerValueContains(_ raw: [UInt8], lowerCasedNeedle needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        let unfolded = raw.contains(10) ? HeaderUnfolding.catenate(raw) : raw
        var low = unfolded.startIndex, high = unfolded.endIndex
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 || c == 10 }
        while low < high && isSpace(unfolded[low]) { low += 1 }
        while high > low && isSpace(unfolded[high - 1]) { high -= 1 }
        let value = unfolded[low..<high]
        if containsLowerCased(value, needle) { return true }
        var plain = true
        var previous: UInt8 = 0
        for c in value {
            if c == 0 || c >= 0x80 || (previous == UInt8(ascii: "=") && c == UInt8(ascii: "?")) {
                plain = false
                break
            }
            previous = c
        }
        if plain { return false }
        let decoded = RFC2047Decoder.decode(Array(value), targetCharset: "UTF-8")
        return containsLowerCased(decoded[...], needle)
    }

    /// ASCII case-insensitive substring test with a needle already lower-cased.
    static func containsLowerCased(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                let first = n[0], last = h.count - n.count
                var i = 0
                while i <= last {
                    let c = h[i]
                    if (c >= 65 && c <= 90 ? c + 32 : c) == first {
                        var j = 1
                        while j < n.count {
                            let b = h[i + j]
                            if (b >= 65 && b <= 90 ? b + 32 : b) != n[j] { break }
                            j += 1
                        }
                        if j == n.count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }
}
