import IMAP
import MailCore

/// One message's bytes (CRLF line ends, as IMAP counts them: RFC 3501 §2.3.4) with its
/// parsed header block and MIME tree, for FETCH, SEARCH and SORT.
struct MessageView {
    let bytes: [UInt8]
    let headers: HeaderBlock
    private(set) lazy var mime: MIMEMessage = MIMEParser.parse(bytes)

    init(fileBytes: [UInt8]) {
        bytes = Self.crlf(fileBytes)
        headers = HeaderReader.read(bytes)
    }

    /// Maildir files hold LF line ends; IMAP sees CRLF (spec/access.md §2.5).
    static func crlf(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 30)
        var previous: UInt8 = 0
        for c in input {
            if c == 10 && previous != 13 { out.append(13) }
            out.append(c)
            previous = c
        }
        return out
    }

    /// The value of the first header `name`, unfolded and trimmed.
    func header(_ name: String) -> [UInt8]? {
        guard let h = headers.first(named: name) else { return nil }
        return Self.trim(HeaderUnfoldingShim.unfold(h.value))
    }

    static func trim(_ v: [UInt8]) -> [UInt8] {
        var s = v[...]
        while let f = s.first, f == 32 || f == 9 || f == 13 || f == 10 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 || l == 13 || l == 10 { s = s.dropLast() }
        return Array(s)
    }

    // MARK: ENVELOPE (RFC 3501 §7.4.2)

    func envelope() -> Envelope {
        Self.envelope(header: { header($0) })
    }

    static func envelope(header: (String) -> [UInt8]?) -> Envelope {
        var e = Envelope()
        e.date = header("Date")
        e.subject = header("Subject")
        e.from = addresses(header("From"))
        e.sender = addresses(header("Sender"))
        e.replyTo = addresses(header("Reply-To"))
        e.to = addresses(header("To"))
        e.cc = addresses(header("Cc"))
        e.bcc = addresses(header("Bcc"))
        e.inReplyTo = header("In-Reply-To")
        e.messageID = header("Message-ID")
        return e
    }

    static func addresses(_ value: [UInt8]?) -> [EnvelopeAddress] {
        guard let value, !value.isEmpty else { return [] }
        var out: [EnvelopeAddress] = []
        for entry in AddressList.parse(value).entries.prefix(1000) {
            if entry.hasAddress {
                let text = entry.addressText
                let name = entry.nameText
                if let at = text.lastIndex(of: UInt8(ascii: "@")) {
                    out.append(EnvelopeAddress(name: name.isEmpty ? nil : name, mailbox: Array(text[..<at]),
                                               host: Array(text[(at + 1)...])))
                } else {
                    out.append(EnvelopeAddress(name: name.isEmpty ? nil : name, mailbox: text, host: []))
                }
            } else {
                let name = entry.nameText
                if name.last == UInt8(ascii: ":") || (!name.isEmpty && name != [UInt8(ascii: ";")]) {
                    let group = trim(Array(name.filter { $0 != UInt8(ascii: ":") }))
                    out.append(EnvelopeAddress(name: nil, mailbox: group, host: nil))
                } else {
                    out.append(EnvelopeAddress(name: nil, mailbox: nil, host: nil))
                }
            }
        }
        return out
    }

    // MARK: BODYSTRUCTURE (RFC 3501 §7.4.2)

    mutating func bodyStructure() -> BodyStructure {
        let message = mime
        return Self.structure(message, bytes, index: 0, depth: 0)
    }

    static func structure(_ m: MIMEMessage, _ bytes: [UInt8], index: Int, depth: Int) -> BodyStructure {
        structure(m, index: index, depth: depth, lines: { lineCount(bytes[$0]) }, headerBlock: { HeaderReader.read(bytes[$0]) })
    }

    /// BODYSTRUCTURE of entity `index`, reading the message through `lines` (the LFs in a
    /// range) and `headerBlock` (the header fields in a range): a held message or a file
    /// read in pieces (`LargeMessage`).
    static func structure(_ m: MIMEMessage, index: Int, depth: Int, lines: (Range<Int>) -> Int,
                          headerBlock: (Range<Int>) -> HeaderBlock) -> BodyStructure {
        let entity = m.entities[index]
        let (type, subtype) = contentType(entity)
        let children = entity.children.filter { $0 < m.entities.count && !m.entities[$0].isPreamble }
        if type == Array("multipart".utf8), depth < 20 {
            var multi = BodyStructure.Multipart(
                parts: children.map { structure(m, index: $0, depth: depth + 1, lines: lines, headerBlock: headerBlock) },
            subtype: subtype)
            multi.parameters = parameters(entity.contentTypeParameters)
            multi.ext = extensionData(entity)
            return .multipart(multi)
        }
        let body = m.sectionBodyRange(of: index)
        let encoding = entity.transferEncoding.map { Parser.lowercasedBytes($0) } ?? Array("7bit".utf8)
        var part = BodyStructure.SinglePart(type: type, subtype: subtype, encoding: encoding, size: body.count)
        part.parameters = parameters(entity.contentTypeParameters)
        // RFC 2045 §5.2: a text part that names no charset is US-ASCII (as Dovecot reports it).
        if type == Array("text".utf8), !part.parameters.contains(where: { $0.name == Array("charset".utf8) }) {
            part.parameters.append(.init(name: Array("charset".utf8), value: Array("us-ascii".utf8)))
        }
        part.id = entity.contentID
        part.description = entity.contentDescription
        part.md5 = entity.contentMD5
        part.ext = extensionData(entity)
        if type == Array("text".utf8) {
            part.lines = lines(body)
        } else if type == Array("message".utf8) && subtype == Array("rfc822".utf8), let child = children.first, depth < 20 {
            let childPosition = m.position(of: child)
            let range = m.clamped(childPosition.start, childPosition.startBody)
            let block = headerBlock(range)
            let env = envelope { name in
                block.first(named: name).map { trim(HeaderUnfoldingShim.unfold($0.value)) }
            }
            part.message = (env, structure(m, index: child, depth: depth + 1, lines: lines, headerBlock: headerBlock))
            part.lines = lines(body)
        }
        return .single(part)
    }

    /// body-fld-lines: the line breaks in the body (RFC 3501 §7.4.2; a part's last line has
    /// none, its CRLF belongs to the boundary; Dovecot counts the same way).
    static func lineCount(_ body: ArraySlice<UInt8>) -> Int {
        var n = 0
        for c in body where c == 10 { n += 1 }
        return n
    }

    static func contentType(_ entity: MIMEEntity) -> ([UInt8], [UInt8]) {
        guard let value = entity.contentType, let slash = value.firstIndex(of: UInt8(ascii: "/")) else {
            return (Array("text".utf8), Array("plain".utf8))
        }
        return (Parser.lowercasedBytes(Array(value[..<slash])), Parser.lowercasedBytes(Array(value[(slash + 1)...])))
    }

    static func parameters(_ p: MIMEParameters) -> [BodyStructure.Parameter] {
        p.items.map { BodyStructure.Parameter(name: Parser.lowercasedBytes($0.name), value: $0.value) }
    }

    static func extensionData(_ entity: MIMEEntity) -> BodyStructure.Extension {
        var ext = BodyStructure.Extension()
        if let disposition = entity.disposition {
            ext.dispositionType = disposition
            ext.dispositionParameters = parameters(entity.dispositionParameters)
        }
        ext.language = entity.contentLanguage
        return ext
    }

    // MARK: sections (RFC 3501 §6.4.5)

    /// The entity a section-part (1.2.3) names (RFC 3501 §6.4.5): parts of a multipart by
    /// position; a message/rfc822 part's numbers apply to the message it encloses; an entity
    /// that is not multipart has one part, 1, itself (its body; Dovecot answers the same).
    /// The top-level message is a message, not a part, even when it is message/rfc822 itself:
    /// its 1 is its body, and 1.1 the first part of the message that body encloses.
    static func resolve(_ m: MIMEMessage, _ path: [UInt32]) -> Int? {
        var current = 0
        var isMessage = true // `current` stands for a message, not yet for one of its parts
        for n in path {
            if !isMessage, isMessageRFC822(m.entities[current]),
               let child = m.entities[current].children.first, child < m.entities.count {
                current = child
                isMessage = true
            }
            if contentType(m.entities[current]).0 == Array("multipart".utf8) {
                let kids = m.entities[current].children.filter { $0 < m.entities.count && !m.entities[$0].isPreamble }
                guard n >= 1, Int(n) <= kids.count else { return nil }
                current = kids[Int(n) - 1]
            } else {
                guard n == 1 else { return nil }
            }
            isMessage = false
        }
        return current
    }

    static func isMessageRFC822(_ entity: MIMEEntity) -> Bool {
        let (type, subtype) = contentType(entity)
        return type == Array("message".utf8) && subtype == Array("rfc822".utf8)
    }

    /// The bytes BODY[section] names; nil when the part does not exist (RFC: empty string).
    mutating func section(_ section: Section) -> [UInt8] {
        switch Self.place(section, in: mime, size: bytes.count) {
        case nil: return []
        case .range(let r)?: return Array(bytes[r])
        case .fields(let names, let exclude, let header)?:
            return Self.pick(HeaderReader.read(bytes[header]), names, exclude: exclude)
        }
    }

    /// Where BODY[section] lies in a message of `size` bytes whose structure is `m`.
    enum SectionPlace {
        /// These bytes of the message.
        case range(Range<Int>)
        /// HEADER.FIELDS (`exclude` false) or HEADER.FIELDS.NOT of the header block at `header`.
        case fields([[UInt8]], exclude: Bool, header: Range<Int>)
    }

    /// The place of `section` in `m` (RFC 3501 §6.4.5); nil when the part does not exist. Shared
    /// by the whole-message and the large-message (read in pieces) paths.
    static func place(_ section: Section, in m: MIMEMessage, size: Int) -> SectionPlace? {
        var index = 0
        if !section.part.isEmpty {
            guard let found = resolve(m, section.part) else { return nil }
            index = found
        }
        let entity = m.entities[index]
        let (type, subtype) = contentType(entity)
        // HEADER/TEXT of a message/rfc822 part refer to the enclosed message.
        var target = index
        if !section.part.isEmpty, type == Array("message".utf8), subtype == Array("rfc822".utf8),
           let child = entity.children.first, section.text != .mime, section.text != nil {
            target = child
        }
        let position = m.position(of: target)
        switch section.text {
        case nil:
            return .range(section.part.isEmpty ? 0..<size : m.sectionBodyRange(of: index))
        case .mime:
            let p = m.position(of: index)
            return .range(m.clamped(p.start, p.startBody))
        case .header:
            return .range(m.clamped(position.start, position.startBody))
        case .text:
            return .range(m.sectionBodyRange(of: target))
        case .headerFields(let names):
            return .fields(names, exclude: false, header: m.clamped(position.start, position.startBody))
        case .headerFieldsNot(let names):
            return .fields(names, exclude: true, header: m.clamped(position.start, position.startBody))
        }
    }

    /// The fields of `block` named (or, with `exclude`, not named) in `names`, and the blank line.
    static func pick(_ block: HeaderBlock, _ names: [[UInt8]], exclude: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for h in block.headers where names.contains(where: { h.isNamed($0) }) != exclude { out += h.raw }
        out += [13, 10]
        return out
    }
}

/// Header unfolding without depending on MailCore's internal helper name.
enum HeaderUnfoldingShim {
    static func unfold(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        for c in value where c != 13 && c != 10 { out.append(c) }
        return out
    }
}

extension Parser {
    static func lowercasedBytes(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }
}
