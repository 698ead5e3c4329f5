/// A set of access rights as Courier stores them in `courierimapacl` (access.md §1.6): RFC 4314
/// letters, kept sorted and without duplicates (`aceilrstwx`), so that two equal sets are spelled
/// the same and files compare byte for byte with the ones Courier writes.
public struct ACLRights: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The letters, ascending, each once.
    public private(set) var letters: [UInt8]

    /// RFC 4314 §2.1 rights Courier implements: administer, create, expunge, insert, lookup,
    /// read, seen, delete messages (`t`), write, delete mailbox (`x`).
    public static let all: ACLRights = "aceilrstwx"
    public static let none = ACLRights(letters: [])

    public static let administer = UInt8(ascii: "a"), create = UInt8(ascii: "c"), expunge = UInt8(ascii: "e")
    public static let insert = UInt8(ascii: "i"), lookup = UInt8(ascii: "l"), post = UInt8(ascii: "p")
    public static let read = UInt8(ascii: "r"), seen = UInt8(ascii: "s"), deleteMessages = UInt8(ascii: "t")
    public static let write = UInt8(ascii: "w"), deleteMailbox = UInt8(ascii: "x")
    /// RFC 2086's `d` (RFC 4314 §2.1.1: the union of `e`, `t` and `x` on the wire).
    public static let legacyDelete = UInt8(ascii: "d")

    /// Any bytes: control characters, space and DEL are dropped, the rest sorted and deduplicated.
    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        var seen = [Bool](repeating: false, count: 256)
        for b in bytes where b > 0x20 && b != 0x7f { seen[Int(b)] = true }
        letters = (0..<256).filter { seen[$0] }.map { UInt8($0) }
    }

    public init(_ text: String) { self.init(text.utf8) }
    public init(stringLiteral value: String) { self.init(value.utf8) }
    private init(letters: [UInt8]) { self.letters = letters }

    public var isEmpty: Bool { letters.isEmpty }
    public var description: String { String(decoding: letters, as: UTF8.self) }

    public func contains(_ letter: UInt8) -> Bool { letters.contains(letter) }
    /// Whether every right of `other` is here.
    public func contains(_ other: ACLRights) -> Bool { other.letters.allSatisfy(letters.contains) }

    public func union(_ other: ACLRights) -> ACLRights { ACLRights(letters + other.letters) }
    public func subtracting(_ other: ACLRights) -> ACLRights {
        ACLRights(letters: letters.filter { !other.letters.contains($0) })
    }
    public func intersection(_ other: ACLRights) -> ACLRights {
        ACLRights(letters: letters.filter { other.letters.contains($0) })
    }

    // MARK: the wire (RFC 2086 ⇄ RFC 4314)

    /// Rights a client sent in SETACL: RFC 2086's `d` stands for `e`, `t` and `x` together
    /// (RFC 4314 §2.1.1), as Courier's imapd stores it.
    public static func fromClient<S: Sequence>(_ bytes: S) -> ACLRights where S.Element == UInt8 {
        var out: [UInt8] = []
        var sawDelete = false
        for b in bytes {
            if b == legacyDelete { sawDelete = true } else { out.append(b) }
        }
        if sawDelete { out += [deleteMailbox, deleteMessages, expunge] }
        return ACLRights(out)
    }

    /// The letters GETACL and MYRIGHTS report (Courier, access.md §1.6): `e`, `t` and `x` are
    /// never shown; with both `t` and `x`, an `e` is shown as `d` (`aceilrstwx` → `acdilrsw`).
    public var reportedText: String {
        let showD = contains(Self.deleteMailbox) && contains(Self.deleteMessages)
        var out: [UInt8] = []
        for b in letters {
            if b == Self.expunge {
                if showD { out.append(Self.legacyDelete) }
            } else if b != Self.deleteMessages && b != Self.deleteMailbox {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The letters of SELECT's `[MYRIGHTS ...]` (Courier): `d` replaces `e`, `t` and `x` only
    /// when all three are granted; otherwise the stored letters are sent as they are.
    public var selectText: String {
        guard contains(Self.expunge) && contains(Self.deleteMessages) && contains(Self.deleteMailbox) else {
            return description
        }
        return reportedText
    }
}
