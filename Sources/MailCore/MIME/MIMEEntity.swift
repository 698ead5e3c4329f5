/// An ordered list of MIME header parameters (`name=value`), names lowercased.
/// Setting an existing name replaces its value in place, as Courier's attribute list does.
public struct MIMEParameters: Sendable, Equatable {
    public private(set) var items: [(name: [UInt8], value: [UInt8])] = []

    public init() {}

    public static func == (a: MIMEParameters, b: MIMEParameters) -> Bool {
        a.items.count == b.items.count && zip(a.items, b.items).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The value of parameter `name` (lowercase), or nil.
    public subscript(name: String) -> [UInt8]? {
        let key = Array(name.utf8)
        return items.first { $0.name == key }?.value
    }

    /// Sets (`value` non-nil) or removes (`nil`) a parameter.
    public mutating func set(_ name: [UInt8], _ value: [UInt8]?) {
        if let i = items.firstIndex(where: { $0.name == name }) {
            if let value { items[i].value = value } else { items.remove(at: i) }
        } else if let value {
            items.append((name, value))
        }
    }
}

/// Parse problems Courier's MIME parser records (`RFC2045_ERR*` in 2.9.3).
public struct MIMEErrors: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// 8-bit bytes in a header.
    public static let eightBitHeader = MIMEErrors(rawValue: 1)
    /// 8-bit body data without `Content-Transfer-Encoding: 8bit`.
    public static let eightBitContent = MIMEErrors(rawValue: 2)
    /// More than 300 MIME entities: parsing stopped.
    public static let tooComplex = MIMEErrors(rawValue: 4)
    /// A boundary that is a prefix of an enclosing one, or the reverse (RFC 2046 §5.1.1).
    public static let ambiguousBoundary = MIMEErrors(rawValue: 8)
}

/// One MIME entity (the message, a part of a multipart, or an encapsulated message).
/// Positions are byte offsets into the parsed message; nothing of the body is copied.
public struct MIMEEntity: Sendable {
    /// Index of the parent entity in `MIMEMessage.entities`, nil for the top level.
    public var parent: Int?
    /// Child entity indices, in order. For a multipart, the first child is the preamble
    /// pseudo-part (`isPreamble`), which has no section number.
    public var children: [Int] = []
    /// True for the pseudo-part holding a multipart's preamble.
    public var isPreamble = false

    /// Start of the entity's headers.
    public var startPos = 0
    /// Start of the body (after the blank line), as Courier records it.
    public var startBody = 0
    /// End of the entity including the line break before the next delimiter.
    public var endPos = 0
    /// End of the entity without that line break.
    public var endBody = 0
    /// End of the entity as IMAP numbers parts (RFC 2046 §5.1.1): `endBody`, except that in a
    /// message/rfc822 part of a multipart the encapsulated message's last line break is left
    /// out too (it precedes the delimiter); Courier's `endBody` keeps it there.
    public var endInPart = 0
    /// Courier's raw line counters (see `MIMEMessage.position(of:)` for the reported values).
    public var lineCount = 0
    public var bodyLineCount = 0

    /// `Mime-Version` value (comments removed), inherited by multipart parts.
    public var mimeVersion: [UInt8]?
    /// Lowercased `type/subtype`, nil when absent or when the entity is not MIME.
    public var contentType: [UInt8]?
    public var contentTypeParameters = MIMEParameters()
    /// Lowercased multipart boundary (only for multipart entities).
    public var boundary: [UInt8]?
    /// Lowercased `Content-Disposition` type.
    public var disposition: [UInt8]?
    public var dispositionParameters = MIMEParameters()
    /// Lowercased `Content-Transfer-Encoding`, inherited by multipart parts.
    public var transferEncoding: [UInt8]?
    /// True when the transfer encoding is `8bit`.
    public var declares8bit = false
    public var contentID: [UInt8]?
    public var contentDescription: [UInt8]?
    public var contentLanguage: [UInt8]?
    public var contentMD5: [UInt8]?

    /// For rewriting (`reformime -r`): the body has bytes >= 127 (decoded, for QP).
    public var has8bitChars = false
    /// For rewriting: the body has a line longer than 500 characters.
    public var hasLongLine = false
    /// Error flags for this entity and everything inside it.
    public var errors: MIMEErrors = []

    /// Whether MIME rules apply (`Mime-Version` 1.x, `atoi` semantics).
    public var isMIME: Bool { Self.isMIMEVersion1(mimeVersion) }

    /// Courier's `RFC2045_ISMIME1`: `atoi(version) == 1`.
    public static func isMIMEVersion1(_ v: [UInt8]?) -> Bool {
        guard let v else { return false }
        return atoiValue(v) == 1
    }

    /// C `atoi`: optional whitespace and sign, then digits.
    static func atoiValue(_ v: [UInt8]) -> Int {
        var i = 0
        while i < v.count && MIMEHeaderTokenizer.isSpace(v[i]) { i += 1 }
        var negative = false
        if i < v.count && (v[i] == UInt8(ascii: "-") || v[i] == UInt8(ascii: "+")) {
            negative = v[i] == UInt8(ascii: "-")
            i += 1
        }
        var n = 0
        while i < v.count, v[i] >= 0x30, v[i] <= 0x39 {
            n = n &* 10 &+ Int(v[i] - 0x30)
            if n > 1_000_000 { break }
            i += 1
        }
        return negative ? -n : n
    }

    /// True when the content type starts with `multipart/`.
    /// Asked for every line the parser reads, so it compares bytes in place (no array
    /// built for the prefix, no copy of the entity).
    public var isMultipart: Bool {
        guard let t = contentType, t.count >= 10 else { return false }
        return t.withUnsafeBufferPointer { b in
            b[0] == 0x6D && b[1] == 0x75 && b[2] == 0x6C && b[3] == 0x74 && b[4] == 0x69
                && b[5] == 0x70 && b[6] == 0x61 && b[7] == 0x72 && b[8] == 0x74 && b[9] == 0x2F // "multipart/"
        }
    }

    public init() {}
}
