#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MailCore
import MaildirCore

extension MailboxSession {
    /// FETCH / UID FETCH (RFC 3501 §6.4.5, §6.4.8).
    /// `modifiers`: RFC 7162 §3.1.4 CHANGEDSINCE (only messages with a higher MODSEQ) and
    /// §3.2.6 VANISHED (UID FETCH: VANISHED (EARLIER) for the set's UIDs expunged since).
    func fetch(_ tag: [UInt8], _ set: SequenceSet, _ attributes: [FetchAttribute], uid: Bool,
               modifiers: FetchModifiers = FetchModifiers(), into w: inout ResponseWriter) {
        guard let s = selected else { return }
        if outOfRange(set, uid: uid) {
            w.tagged(tag, .bad, nil, "Message sequence number out of range")
            return
        }
        unknownEncodingSeen = false
        missingMessageSeen = false
        if modifiers.vanished {
            guard qresync else {
                w.tagged(tag, .bad, nil, "VANISHED needs ENABLE QRESYNC")   // RFC 7162 §3.2.6
                return
            }
            writeVanishedEarlier(since: modifiers.changedSince ?? 0, within: set, into: &w)
        }
        var chosen = indices(set, uid: uid)
        if let since = modifiers.changedSince {
            chosen = chosen.filter { s.messages[$0].modSeq > since }
        }
        let marksSeen = attributes.contains(where: \.setsSeen) && s.readOnly == false
        // FETCH's implicit \Seen: one change (one mod-sequence) for the whole command.
        let seenChanged = marksSeen ? markSeen(chosen.filter { !s.messages[$0].isSeen }) : []
        // RFC 7162 §3.1.4: once CONDSTORE is on, a FETCH that changed flags reports MODSEQ too.
        let extra: [FetchAttribute] = condStore ? [.uid, .flags, .modSeq] : [.flags]
        for index in chosen {
            let added = seenChanged.contains(index) ? extra.filter { !attributes.contains($0) } : []
            fetchOne(index, attributes + added, addFlags: false, into: &w)
            if w.bytes.count >= Self.flushThreshold, let flushHook {
                flushHook(w.bytes)
                let utf8 = w.utf8Allowed
                w = ResponseWriter(capacity: Self.flushThreshold + 4096)
                w.utf8Allowed = utf8
            }
        }
        if missingMessageSeen {
            // RFC 9051 §7.1, RFC 2180 §4.1.2: another session expunged a message we had to read.
            w.tagged(tag, .no, .expungeIssued, "Some messages were expunged by another session.")
        } else if unknownEncodingSeen {
            // RFC 3516 §4.2: a part whose transfer encoding we cannot undo fails the FETCH.
            w.tagged(tag, .no, .unknownCTE, "Unknown Content-Transfer-Encoding: cannot fetch BINARY.")
        } else {
            w.tagged(tag, .ok, nil, "FETCH completed.")
        }
    }

    private func fetchOne(_ index: Int, _ attributes: [FetchAttribute], addFlags: Bool, into w: inout ResponseWriter) {
        guard let s = selected, index < s.messages.count else { return }
        let m = s.messages[index]
        var view: MessageView?
        func loaded() -> MessageView? {
            if view == nil {
                view = self.view(at: index)
                if view == nil { missingMessageSeen = true }
            }
            return view
        }
        // Numbers as bytes, no String per item: FETCH 1:* writes tens of thousands of them.
        w.append("* ")
        w.appendDecimal(UInt64(index + 1))
        w.append(" FETCH (")
        var first = true
        func item(_ name: String) {
            if !first { w.space() }
            first = false
            w.append(name)
        }
        for attribute in attributes + (addFlags ? [.flags] : []) {
            // ENVELOPE from the folder's summaries (formatted once per process): no file is
            // opened for a message seen before, and a large one is not scanned for it.
            if view == nil, attribute == .envelope, let cached = envelopeBytes(at: index, utf8: w.utf8Allowed) {
                item("ENVELOPE ")
                w.append(bytes: cached)
                continue
            }
            // The top-level header of a message too large to hold: read only to the header's end.
            if view == nil, Self.readsTopHeaderOnly(attribute), let header = largeTopHeader(at: index) {
                if !first { w.space() }
                first = false
                writeLargeHeader(attribute, header, into: &w)
                continue
            }
            // BODY/BODYSTRUCTURE of a message too large to hold: described once per process.
            if view == nil, attribute == .body || attribute == .bodyStructure,
               let cached = largeStructureBytes(at: index, extended: attribute == .bodyStructure, utf8: w.utf8Allowed) {
                item(attribute == .body ? "BODY " : "BODYSTRUCTURE ")
                w.append(bytes: cached)
                continue
            }
            // A message too large to hold: read from its file in pieces.
            if view == nil, Self.readsContent(attribute), let large = largeMessage(at: index) {
                if !first { w.space() }
                first = false
                writeLarge(attribute, large, into: &w)
                continue
            }
            switch attribute {
            case .uid:
                item("UID ")
                w.appendDecimal(UInt64(m.uid))
            case .flags:
                item("FLAGS ")
                Self.writeFlagList(of: selected?.messages[index] ?? m, into: &w)
            case .internalDate:
                item("INTERNALDATE ")
                w.string(Self.internalDate(seconds: internalSeconds(m)))
            case .rfc822Size:
                item("RFC822.SIZE ")
                w.appendDecimal(UInt64(clamping: view?.bytes.count ?? size(at: index)))
            case .envelope:
                item("ENVELOPE ")
                w.envelope(loaded()?.envelope() ?? Envelope())
            case .body, .bodyStructure:
                item(attribute == .body ? "BODY " : "BODYSTRUCTURE ")
                if var v = loaded() {
                    w.bodyStructure(v.bodyStructure(), extended: attribute == .bodyStructure)
                    view = v
                } else {
                    w.append("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)")
                }
            case .rfc822:
                item("RFC822 ")
                if view == nil, streamWholeMessage(at: index, into: &w) { continue }
                w.nstring(loaded()?.bytes ?? [])
            case .rfc822Header:
                item("RFC822.HEADER ")
                var v = loaded()
                w.nstring(v?.section(Section(text: .header)) ?? [])
            case .rfc822Text:
                item("RFC822.TEXT ")
                var v = loaded()
                w.nstring(v?.section(Section(text: .text)) ?? [])
            case .bodySection(let section, let partial, _):
                item("BODY[")
                Self.writeSection(section, into: &w)
                w.append("]")
                if view == nil, partial == nil, section.part.isEmpty, section.text == nil {
                    // BODY[] (the whole message): the file converted to CRLF straight into the
                    // response; no MIME parse, no header parse, no CRLF copy.
                    w.space()
                    if streamWholeMessage(at: index, into: &w) { continue }
                    if let stored = storedBytes(at: index) {
                        w.literalFromLF(stored)
                    } else {
                        missingMessageSeen = true
                        w.literalOrQuoted([])
                    }
                    continue
                }
                var v = loaded()
                let bytes = v?.section(section) ?? []
                if let partial {
                    w.append("<\(partial.offset)>")
                    w.space()
                    let start = min(Int(partial.offset), bytes.count)
                    let end = min(start + Int(partial.count), bytes.count)
                    w.literalOrQuoted(bytes[start..<end])
                } else {
                    w.space()
                    w.literalOrQuoted(bytes[...])
                }
            case .binary(let section, let partial, _):
                var v = loaded()
                item("BINARY[" + section.part.map(String.init).joined(separator: ".") + "]")
                guard let decoded = Self.decodedPart(&v, section) else {
                    unknownEncodingSeen = true
                    w.append(" NIL")
                    continue
                }
                var slice = decoded[...]
                if let partial {
                    w.append("<\(partial.offset)>")
                    let start = min(Int(partial.offset), decoded.count)
                    slice = decoded[start..<min(start + Int(partial.count), decoded.count)]
                }
                w.space()
                if slice.contains(0) { w.binaryLiteral(slice) } else { w.literal(slice) }
            case .binarySize(let section):
                var v = loaded()
                guard let decoded = Self.decodedPart(&v, section) else {
                    unknownEncodingSeen = true
                    item("BINARY.SIZE[" + section.part.map(String.init).joined(separator: ".") + "] NIL")
                    continue
                }
                item("BINARY.SIZE[" + section.part.map(String.init).joined(separator: ".") + "] \(decoded.count)")
            case .modSeq:
                item("MODSEQ (\(selected?.messages[index].modSeq ?? m.modSeq))")
            }
        }
        w.append(")\r\n")
    }

    /// FLAGS as `flagList(flags(of: m))` writes them, without building the list (FETCH 1:*
    /// FLAGS writes one per message).
    static func writeFlagList(of m: Message, into w: inout ResponseWriter) {
        guard m.keywords.isEmpty else {
            w.flagList(flags(of: m))
            return
        }
        w.append("(")
        var first = true
        for (bit, name) in systemFlagNames where m.systemFlags & bit != 0 {
            if !first { w.space() }
            first = false
            w.append(name)
        }
        if m.recent {
            if !first { w.space() }
            w.append(Flag.recent.name)
        }
        w.append(")")
    }

    /// The system flags in `flags(of:)`'s order, with their bits.
    static let systemFlagNames: [(UInt8, String)] = [
        (Message.draftBit, Flag.draft.name), (Message.answeredBit, Flag.answered.name),
        (Message.flaggedBit, Flag.flagged.name), (Message.deletedBit, Flag.deleted.name),
        (Message.seenBit, Flag.seen.name),
    ]

    /// A part's content with its transfer encoding undone (RFC 3516 BINARY); nil when the
    /// encoding is one we do not know (x-uuencode, …).
    static func decodedPart(_ view: inout MessageView?, _ section: Section) -> [UInt8]? {
        guard var v = view else { return [] }
        let raw = v.section(section)
        view = v
        switch binaryEncoding(v.mime, section) {
        case Array("base64".utf8)?:
            return Base64Decoder.decode(raw)
        case Array("quoted-printable".utf8)?:
            return QuotedPrintableDecoder.decode(raw)
        case nil:
            return nil
        default:
            return raw
        }
    }

    /// The transfer encoding BINARY[section] undoes (RFC 3516 §4.2), lower case: base64,
    /// quoted-printable, or one that passes the bytes through (none, 7bit, 8bit, binary;
    /// also a part that does not exist); nil for an encoding we cannot undo.
    static func binaryEncoding(_ m: MIMEMessage, _ section: Section) -> [UInt8]? {
        var encoding: [UInt8] = []
        if section.part.isEmpty {
            encoding = m.entities[0].transferEncoding ?? []
        } else if let index = MessageView.resolve(m, section.part) {
            encoding = m.entities[index].transferEncoding ?? []
        }
        let lowered = Parser.lowercasedBytes(encoding)
        switch lowered {
        case Array("base64".utf8), Array("quoted-printable".utf8), [], Array("7bit".utf8), Array("8bit".utf8),
             Array("binary".utf8):
            return lowered
        default:
            return nil
        }
    }

    static func writeSection(_ section: Section, into w: inout ResponseWriter) {
        var parts = section.part.map(String.init).joined(separator: ".")
        guard let text = section.text else { w.append(parts); return }
        if !parts.isEmpty { parts += "." }
        w.append(parts)
        switch text {
        case .header: w.append("HEADER")
        case .text: w.append("TEXT")
        case .mime: w.append("MIME")
        case .headerFields(let names), .headerFieldsNot(let names):
            if case .headerFields = text { w.append("HEADER.FIELDS (") } else { w.append("HEADER.FIELDS.NOT (") }
            for (i, name) in names.enumerated() {
                if i > 0 { w.space() }
                w.string(name)
            }
            w.append(")")
        }
    }

    /// INTERNALDATE: the file's modification time (spec/access.md §2.5), in UTC.
    static func internalDate(seconds: Int64) -> String {
        let c = CivilDateTime(epochSeconds: seconds)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(c.day))-\(months[max(0, min(11, c.month - 1))])-\(c.year) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}

extension ResponseWriter {
    /// Message content: always a literal (it may hold CR LF), except the empty string.
    mutating func literalOrQuoted(_ bytes: ArraySlice<UInt8>) {
        if bytes.isEmpty { append("\"\"") } else { literal(bytes) }
    }
}
