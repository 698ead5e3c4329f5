/// The flag letters of a message's `:2,` info part (maildir(5), access.md §1.2).
///
/// `D` draft, `F` flagged, `R` replied (`\Answered`), `S` seen, `T` trashed (`\Deleted`).
/// Other letters written by other software are kept, never interpreted. Letters are stored
/// once each and always written in ASCII order, as Courier writes them (`...:2,FS`).
public struct MessageFlags: Hashable, Sendable, CustomStringConvertible {
    /// The letters, unique and sorted in ASCII order.
    public private(set) var letters: [UInt8]

    public static let draft = UInt8(ascii: "D")
    public static let flagged = UInt8(ascii: "F")
    public static let replied = UInt8(ascii: "R")
    public static let seen = UInt8(ascii: "S")
    public static let trashed = UInt8(ascii: "T")

    /// No flags.
    public init() { letters = [] }

    /// Flags from the letters after `:2,` (any order, duplicates allowed). Bytes that are not
    /// ASCII letters are dropped: they cannot be flags and must not reach a file name.
    public init<C: Sequence>(letters input: C) where C.Element == UInt8 {
        var present = [Bool](repeating: false, count: 128)
        for b in input where b < 128 && Self.isFlagLetter(b) { present[Int(b)] = true }
        letters = (0..<128).filter { present[$0] }.map { UInt8($0) }
    }

    public init(_ text: String) { self.init(letters: Array(text.utf8)) }

    static func isFlagLetter(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    public func contains(_ letter: UInt8) -> Bool { letters.contains(letter) }

    public var isDraft: Bool { contains(Self.draft) }
    public var isFlagged: Bool { contains(Self.flagged) }
    public var isReplied: Bool { contains(Self.replied) }
    public var isSeen: Bool { contains(Self.seen) }
    public var isTrashed: Bool { contains(Self.trashed) }

    /// These flags with `letter` added (no effect if it is not an ASCII letter).
    public func inserting(_ letter: UInt8) -> MessageFlags {
        MessageFlags(letters: letters + [letter])
    }

    /// These flags without `letter`.
    public func removing(_ letter: UInt8) -> MessageFlags {
        MessageFlags(letters: letters.filter { $0 != letter })
    }

    /// `letter` set or cleared.
    public func setting(_ letter: UInt8, _ on: Bool) -> MessageFlags {
        on ? inserting(letter) : removing(letter)
    }

    /// The info suffix, `:2,` followed by the letters.
    public var infoSuffix: String { ":2," + description }

    /// The letters as text (`FS`).
    public var description: String { String(decoding: letters, as: UTF8.self) }
}
