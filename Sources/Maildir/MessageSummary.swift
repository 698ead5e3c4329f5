import MailCore

/// The header fields of an IMAP ENVELOPE (RFC 3501 §7.4.2), as raw bytes (unfolded CRs
/// dropped, RFC 2047 words not decoded): the IMAP server formats them; nil when absent.
public struct Envelope: Hashable, Sendable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    public var from: [UInt8]?
    public var sender: [UInt8]?
    public var replyTo: [UInt8]?
    public var to: [UInt8]?
    public var cc: [UInt8]?
    public var bcc: [UInt8]?
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?

    public init() {}
}

/// A MIME parameter (`charset=utf-8`): name lower-cased as parsed, value as written (RFC 2231
/// continuations joined by MailCore's parser).
public struct MIMEParameter: Hashable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]
}

/// The MIME structure of a message or part, everything IMAP BODY/BODYSTRUCTURE (RFC 3501
/// §7.4.2) needs. Multipart parts are in `children`; a `message/rfc822` part has the
/// encapsulated message's structure as its only child and its envelope in `envelope`.
public struct BodyStructure: Hashable, Sendable {
    /// Lower-case type and subtype (`text`, `plain`); `text/plain` when not MIME.
    public var type: String
    public var subtype: String
    public var parameters: [MIMEParameter]
    public var id: [UInt8]?
    public var description: [UInt8]?
    /// Content-Transfer-Encoding, lower-case; nil means 7bit.
    public var encoding: [UInt8]?
    /// Body size in octets as sent (CRLF line ends).
    public var size: Int
    /// Body size in lines.
    public var lines: Int
    public var disposition: [UInt8]?
    public var dispositionParameters: [MIMEParameter]
    public var language: [UInt8]?
    public var location: [UInt8]?
    public var md5: [UInt8]?
    public var children: [BodyStructure]
    /// For message/rfc822: the encapsulated message's envelope.
    public var envelope: Envelope?

    public var isMultipart: Bool { type == "multipart" }
}

/// What IMAP needs from a message without opening it again: the envelope fields, the fields
/// SEARCH/SORT/THREAD use, and the MIME structure (built with MailCore's MIME parser).
public struct MessageSummary: Hashable, Sendable {
    public var envelope: Envelope
    /// `References` (RFC 5256 THREAD=REFERENCES), raw.
    public var references: [UInt8]?
    public var structure: BodyStructure

    /// Entities nested deeper than this are not described (hostile nesting).
    public static let maximumDepth = 64

    /// Parses a message as stored (LF line ends).
    public static func parse(_ bytes: [UInt8]) -> MessageSummary {
        // A message that is one line without its line feed is a header field to Courier-IMAP
        // and Dovecot (ENVELOPE, SEARCH); the MIME parser leaves an unfinished line out of the
        // header, so the fields come from the line completed (the structure stays as parsed).
        if let first = bytes.first, first != 13, !bytes.contains(10), bytes.count <= 64 << 10 {
            var summary = parseAsStored(bytes)
            let completed = parseAsStored(bytes + [10])
            summary.envelope = completed.envelope
            summary.references = completed.references
            return summary
        }
        return parseAsStored(bytes)
    }

    static func parseAsStored(_ bytes: [UInt8]) -> MessageSummary {
        let message = MIMEParser.parse(bytes)
        return bytes.withUnsafeBufferPointer { buffer in
            let fields = MIMEHeaderReader.fields(message, buffer, 0, asTopLevel: true)
            var builder = Builder(message: message, fields: { MIMEHeaderReader.fields(message, buffer, $0) },
                                  counts: { Builder.counts(buffer, $0) })
            let structure = builder.structure(0, depth: 0)
            return MessageSummary(envelope: Builder.envelope(fields), references: Builder.first(fields, "References"),
                                  structure: structure)
        }
    }

    /// Builds the structure from the parsed message, reading the message through `fields`
    /// (the header fields of an entity) and `counts` (a body's size with CRLF line ends and
    /// its lines): the whole message held, or its file read in pieces (`parse(fileDescriptor:)`).
    struct Builder {
        let message: MIMEMessage
        let fields: (Int) -> [MIMEHeaderReader.Field]
        let counts: (Range<Int>) -> (size: Int, lines: Int)

        /// A body's size as sent (a CR added before each bare LF) and its lines (the line
        /// breaks, plus an unfinished last line).
        static func counts(_ bytes: UnsafeBufferPointer<UInt8>, _ body: Range<Int>) -> (size: Int, lines: Int) {
            var size = body.count
            var lines = 0
            var previous: UInt8 = 0
            for i in body {
                let b = bytes[i]
                if b == 0x0A { lines += 1; if previous != 0x0D { size += 1 } }
                previous = b
            }
            if let last = body.last, bytes[last] != 0x0A { lines += 1 }
            return (size, lines)
        }

        mutating func structure(_ index: Int, depth: Int) -> BodyStructure {
            let e = message.entities[index]
            let fields = self.fields(index)
            let type = e.contentType ?? Array("text/plain".utf8)
            let slash = type.firstIndex(of: UInt8(ascii: "/")) ?? type.count
            let (size, lines) = counts(message.sectionBodyRange(of: index))
            var s = BodyStructure(
                type: String(decoding: type[..<slash], as: UTF8.self),
                subtype: slash < type.count ? String(decoding: type[(slash + 1)...], as: UTF8.self) : "",
                parameters: e.contentTypeParameters.items.map { MIMEParameter(name: $0.name, value: $0.value) },
                id: e.contentID, description: e.contentDescription, encoding: e.transferEncoding,
                size: size, lines: lines, disposition: e.disposition,
                dispositionParameters: e.dispositionParameters.items.map { MIMEParameter(name: $0.name, value: $0.value) },
                language: e.contentLanguage, location: Self.first(fields, "Content-Location"), md5: e.contentMD5,
                children: [], envelope: nil)
            guard depth < MessageSummary.maximumDepth else { return s }
            let parts = e.children.filter { $0 < message.entities.count && !message.entities[$0].isPreamble }
            if s.type == "message" && s.subtype == "rfc822", let inner = parts.first {
                s.envelope = Self.envelope(self.fields(inner))
                s.children = [structure(inner, depth: depth + 1)]
            } else if e.isMultipart {
                s.children = parts.map { structure($0, depth: depth + 1) }
            }
            return s
        }

        static func first(_ fields: [MIMEHeaderReader.Field], _ name: String) -> [UInt8]? {
            fields.first { MIMEHeaderReader.nameEquals($0.name, name) }?.value
        }

        static func envelope(_ fields: [MIMEHeaderReader.Field]) -> Envelope {
            var env = Envelope()
            env.date = first(fields, "Date")
            env.subject = first(fields, "Subject")
            env.from = first(fields, "From")
            env.sender = first(fields, "Sender")
            env.replyTo = first(fields, "Reply-To")
            env.to = first(fields, "To")
            env.cc = first(fields, "Cc")
            env.bcc = first(fields, "Bcc")
            env.inReplyTo = first(fields, "In-Reply-To")
            env.messageID = first(fields, "Message-ID")
            return env
        }
    }
}
