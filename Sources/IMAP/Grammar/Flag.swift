/// A message flag (RFC 3501 §2.3.2): a system flag such as `\Seen`, or a keyword atom.
/// Compared case-insensitively; kept as the client spelled it for keywords.
public struct Flag: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        if name.hasPrefix("\\") {
            let lower = name.lowercased()
            self.name = Self.system.first { $0.lowercased() == lower } ?? name
        } else {
            self.name = name
        }
    }

    public static let seen = Flag("\\Seen")
    public static let answered = Flag("\\Answered")
    public static let flagged = Flag("\\Flagged")
    public static let deleted = Flag("\\Deleted")
    public static let draft = Flag("\\Draft")
    public static let recent = Flag("\\Recent")

    /// Courier's order of system flags in FLAGS lists (spec/access.md §2.5).
    public static let system = ["\\Draft", "\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Recent"]

    public var isSystem: Bool { name.hasPrefix("\\") }
    public var description: String { name }

    public static func == (a: Flag, b: Flag) -> Bool { a.name.lowercased() == b.name.lowercased() }
    public func hash(into hasher: inout Hasher) { hasher.combine(name.lowercased()) }
}

extension Parser {
    /// flag = "\Answered" / ... / flag-keyword / flag-extension; in lists also "\*" (PERMANENTFLAGS only).
    mutating func flag() throws(IMAPSyntaxError) -> Flag {
        if skip(UInt8(ascii: "\\")) {
            let name = try atom()
            return Flag("\\" + String(decoding: name, as: UTF8.self))
        }
        return Flag(String(decoding: try atom(), as: UTF8.self))
    }

    /// flag-list = "(" [flag *(SP flag)] ")"
    mutating func flagList() throws(IMAPSyntaxError) -> [Flag] {
        try parenthesized(allowEmpty: true) { (p: inout Parser) throws(IMAPSyntaxError) in try p.flag() }
    }
}
