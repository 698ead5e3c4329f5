/// BODY / BODYSTRUCTURE (RFC 3501 §7.4.2 `body`): the MIME tree as IMAP describes it.
public indirect enum BodyStructure: Hashable, Sendable {
    case single(SinglePart)
    case multipart(Multipart)

    /// Extension data shared by both kinds (body-ext-1part / body-ext-mpart tails).
    public struct Extension: Hashable, Sendable {
        public var disposition: (type: [UInt8], parameters: [Parameter])? {
            get { dispositionType.map { ($0, dispositionParameters) } }
            set { dispositionType = newValue?.type; dispositionParameters = newValue?.parameters ?? [] }
        }
        public var dispositionType: [UInt8]?
        public var dispositionParameters: [Parameter] = []
        public var language: [UInt8]?
        public var location: [UInt8]?
        public init() {}
    }

    /// A `name value` pair of body-fld-param.
    public struct Parameter: Hashable, Sendable {
        public var name: [UInt8]
        public var value: [UInt8]
        public init(name: [UInt8], value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    /// body-type-1part: basic, text or message/rfc822.
    public struct SinglePart: Hashable, Sendable {
        public var type: [UInt8]
        public var subtype: [UInt8]
        public var parameters: [Parameter] = []
        public var id: [UInt8]?
        public var description: [UInt8]?
        public var encoding: [UInt8]
        public var size: Int
        /// body-fld-lines for text/* and message/rfc822.
        public var lines: Int?
        /// message/rfc822: the enclosed message's envelope and structure.
        public var message: (envelope: Envelope, body: BodyStructure)? {
            get { messageEnvelope.flatMap { e in messageBody.map { (e, $0[0]) } } }
            set { messageEnvelope = newValue?.envelope; messageBody = newValue.map { [$0.body] } }
        }
        var messageEnvelope: Envelope?
        var messageBody: [BodyStructure]?
        public var md5: [UInt8]?
        public var ext = Extension()

        public init(type: [UInt8], subtype: [UInt8], encoding: [UInt8], size: Int) {
            self.type = type
            self.subtype = subtype
            self.encoding = encoding
            self.size = size
        }
    }

    /// body-type-mpart.
    public struct Multipart: Hashable, Sendable {
        public var parts: [BodyStructure]
        public var subtype: [UInt8]
        public var parameters: [Parameter] = []
        public var ext = Extension()
        public init(parts: [BodyStructure], subtype: [UInt8]) {
            self.parts = parts
            self.subtype = subtype
        }
    }
}

extension BodyStructure.Extension {
    public static func == (a: Self, b: Self) -> Bool {
        a.dispositionType == b.dispositionType && a.dispositionParameters == b.dispositionParameters
            && a.language == b.language && a.location == b.location
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(dispositionType)
        hasher.combine(language)
    }
}

extension BodyStructure.SinglePart {
    public static func == (a: Self, b: Self) -> Bool {
        a.type == b.type && a.subtype == b.subtype && a.parameters == b.parameters && a.id == b.id
            && a.description == b.description && a.encoding == b.encoding && a.size == b.size && a.lines == b.lines
            && a.messageEnvelope == b.messageEnvelope && a.messageBody == b.messageBody && a.md5 == b.md5 && a.ext == b.ext
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(subtype)
        hasher.combine(size)
    }
}

extension ResponseWriter {
    /// Writes BODY (`extended` false) or BODYSTRUCTURE (`extended` true), RFC 3501 §7.4.2.
    public mutating func bodyStructure(_ body: BodyStructure, extended: Bool) {
        append("(")
        switch body {
        case .single(let part):
            string(part.type)
            space()
            string(part.subtype)
            space()
            parameters(part.parameters)
            space()
            nstring(part.id)
            space()
            nstring(part.description)
            space()
            string(part.encoding)
            space()
            appendNumber(part.size)
            if let envelope = part.messageEnvelope, let inner = part.messageBody?.first {
                space()
                self.envelope(envelope)
                space()
                bodyStructure(inner, extended: extended)
                space()
                appendNumber(part.lines ?? 0)
            } else if let lines = part.lines {
                space()
                appendNumber(lines)
            }
            if extended {
                space()
                nstring(part.md5)
                extensionData(part.ext)
            }
        case .multipart(let multi):
            for child in multi.parts { bodyStructure(child, extended: extended) }
            if multi.parts.isEmpty {
                // RFC 3501 requires 1*body; an empty multipart shows as an empty text part.
                append("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)")
            }
            space()
            string(multi.subtype)
            if extended {
                space()
                parameters(multi.parameters)
                extensionData(multi.ext)
            }
        }
        append(")")
    }

    mutating func parameters(_ list: [BodyStructure.Parameter]) {
        guard !list.isEmpty else { append("NIL"); return }
        append("(")
        for (i, p) in list.enumerated() {
            if i > 0 { space() }
            string(p.name)
            space()
            string(p.value)
        }
        append(")")
    }

    mutating func extensionData(_ ext: BodyStructure.Extension) {
        space()
        if let type = ext.dispositionType {
            append("(")
            string(type)
            space()
            parameters(ext.dispositionParameters)
            append(")")
        } else {
            append("NIL")
        }
        space()
        // body-fld-lang = nstring / "(" string *(SP string) ")": a list, one tag per entry.
        let tags = (ext.language ?? []).split { $0 == UInt8(ascii: ",") || $0 == 32 || $0 == 9 }
        if tags.isEmpty {
            append("NIL")
        } else {
            append("(")
            for (i, tag) in tags.enumerated() {
                if i > 0 { space() }
                string(tag)
            }
            append(")")
        }
        space()
        nstring(ext.location)
    }
}
