/// section-spec (RFC 3501 §6.4.5): which part of a message BODY[...] names.
public struct Section: Hashable, Sendable {
    /// What is taken from the part.
    public enum Text: Hashable, Sendable {
        case header
        case headerFields([[UInt8]])
        case headerFieldsNot([[UInt8]])
        case text
        case mime
    }

    /// section-part: 1.2.3 (empty: the whole message).
    public var part: [UInt32]
    public var text: Text?

    public init(part: [UInt32] = [], text: Text? = nil) {
        self.part = part
        self.text = text
    }

    public static let whole = Section()
}

/// A byte range `<offset.count>` of a section (RFC 3501 §6.4.5).
public struct Partial: Hashable, Sendable {
    public var offset: UInt32
    public var count: UInt32
    public init(offset: UInt32, count: UInt32) {
        self.offset = offset
        self.count = count
    }
}

/// fetch-att (RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ).
public enum FetchAttribute: Hashable, Sendable {
    case envelope
    case flags
    case internalDate
    case rfc822
    case rfc822Header
    case rfc822Size
    case rfc822Text
    case body
    case bodyStructure
    case uid
    case bodySection(Section, Partial?, peek: Bool)
    case binary(Section, Partial?, peek: Bool)
    case binarySize(Section)
    case modSeq

    /// Whether fetching this sets \Seen (RFC 3501 §6.4.5).
    public var setsSeen: Bool {
        switch self {
        case .rfc822, .rfc822Text: true
        case .bodySection(_, _, let peek), .binary(_, _, let peek): !peek
        default: false
        }
    }
}

/// FETCH modifiers (RFC 7162 §3.1.4 CHANGEDSINCE, RFC 7162 §3.2.6 VANISHED).
public struct FetchModifiers: Hashable, Sendable {
    public var changedSince: UInt64?
    public var vanished = false
    public init() {}
}

extension Parser {
    /// fetch-att list or macro (ALL, FAST, FULL).
    mutating func fetchAttributes() throws(IMAPSyntaxError) -> [FetchAttribute] {
        if peek == UInt8(ascii: "(") {
            return try parenthesized { (p: inout Parser) throws(IMAPSyntaxError) in try p.fetchAttribute() }
        }
        let save = position
        let word = (try? keyword()) ?? ""
        switch word {
        case "ALL": return [.flags, .internalDate, .rfc822Size, .envelope]
        case "FAST": return [.flags, .internalDate, .rfc822Size]
        case "FULL": return [.flags, .internalDate, .rfc822Size, .envelope, .body]
        default:
            position = save
            return [try fetchAttribute()]
        }
    }

    mutating func fetchAttribute() throws(IMAPSyntaxError) -> FetchAttribute {
        let start = position
        // "[" is an ATOM-CHAR, but here it starts the section.
        while let c = peek, Self.isAtomChar(c) && c != UInt8(ascii: "[") && c != UInt8(ascii: "<") { position += 1 }
        let name = String(decoding: Self.uppercased(Array(bytes[start..<position])), as: UTF8.self)
        switch name {
        case "ENVELOPE": return .envelope
        case "FLAGS": return .flags
        case "INTERNALDATE": return .internalDate
        case "RFC822": return .rfc822
        case "RFC822.HEADER": return .rfc822Header
        case "RFC822.SIZE": return .rfc822Size
        case "RFC822.TEXT": return .rfc822Text
        case "BODYSTRUCTURE": return .bodyStructure
        case "UID": return .uid
        case "MODSEQ": return .modSeq
        case "BODY", "BODY.PEEK":
            guard peek == UInt8(ascii: "[") else {
                if name == "BODY" { return .body }
                throw IMAPSyntaxError("BODY.PEEK needs a section")
            }
            let section = try section()
            return .bodySection(section, try partial(), peek: name == "BODY.PEEK")
        case "BINARY", "BINARY.PEEK":
            let section = try binarySection()
            return .binary(section, try partial(), peek: name == "BINARY.PEEK")
        case "BINARY.SIZE":
            return .binarySize(try binarySection())
        default:
            throw IMAPSyntaxError("unknown FETCH attribute \(name.prefix(40))")
        }
    }

    /// section = "[" [section-spec] "]"
    mutating func section() throws(IMAPSyntaxError) -> Section {
        try expect(UInt8(ascii: "["), "[")
        var result = Section()
        if skip(UInt8(ascii: "]")) { return result }
        while let c = peek, Self.isDigit(c) {
            result.part.append(try nzNumber())
            guard result.part.count <= 64 else { throw IMAPSyntaxError("section too deep") }
            if !skip(UInt8(ascii: ".")) { break }
        }
        if peek != UInt8(ascii: "]") {
            let start = position
            while let c = peek, Self.isAtomChar(c) || c == UInt8(ascii: ".") { position += 1 }
            let word = String(decoding: Self.uppercased(Array(bytes[start..<position])), as: UTF8.self)
            switch word {
            case "HEADER": result.text = .header
            case "TEXT": result.text = .text
            case "MIME":
                guard !result.part.isEmpty else { throw IMAPSyntaxError("MIME needs a part number") }
                result.text = .mime
            case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
                try space()
                let names = try parenthesized { (p: inout Parser) throws(IMAPSyntaxError) in
                    Parser.uppercased(try p.astring())
                }
                result.text = word == "HEADER.FIELDS" ? .headerFields(names) : .headerFieldsNot(names)
            default:
                throw IMAPSyntaxError("bad section")
            }
        }
        try expect(UInt8(ascii: "]"), "]")
        return result
    }

    /// section-binary = "[" [section-part] "]"
    mutating func binarySection() throws(IMAPSyntaxError) -> Section {
        let section = try section()
        guard section.text == nil else { throw IMAPSyntaxError("BINARY takes a part number only") }
        return section
    }

    /// partial = "<" number "." nz-number ">"
    mutating func partial() throws(IMAPSyntaxError) -> Partial? {
        guard skip(UInt8(ascii: "<")) else { return nil }
        let offset = try number()
        try expect(UInt8(ascii: "."), ". in a partial range")
        let count = try nzNumber()
        try expect(UInt8(ascii: ">"), ">")
        return Partial(offset: offset, count: count)
    }
}
