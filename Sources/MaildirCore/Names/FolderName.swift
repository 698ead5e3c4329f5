/// A Maildir++ folder name (access.md §1.3): the hierarchy `Sent.2024` lives in the directory
/// `.Sent.2024` (UTF-8 on disk, as Courier ≥ 5.0 stores it) and is `INBOX.Sent.2024` over IMAP
/// (modified UTF-7 unless the client enabled UTF8=ACCEPT). INBOX itself is the maildir's top
/// directory and is not a `FolderName`.
public struct FolderName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as on disk without the leading dot, e.g. `Sent.2024` or `Résumé`.
    public let name: String

    /// The longest directory name (`.` + name) most file systems allow (NAME_MAX).
    public static let maximumDirectoryNameLength = 255

    /// The IMAP hierarchy separator and the separator in directory names.
    public static let separator = UInt8(ascii: ".")

    /// Validates an on-disk name (UTF-8, components separated by `.`). Rejects an empty name or
    /// component (`a..b`, `.a`, `a.`), `/`, control characters, invalid UTF-8 and names whose
    /// directory would exceed NAME_MAX.
    public init(_ name: String) throws(MaildirError) {
        guard Self.isValid(Array(name.utf8)) else { throw .invalidFolderName(name) }
        self.name = name
    }

    /// Pure check of an on-disk folder name (the fuzz entry point).
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        if bytes.isEmpty || bytes.count + 1 > maximumDirectoryNameLength { return false }
        var previous: UInt8 = separator
        for b in bytes {
            if b < 0x20 || b == 0x7F || b == UInt8(ascii: "/") { return false }
            if b == separator && previous == separator { return false }
            previous = b
        }
        if previous == separator { return false }
        // Invalid UTF-8 would make the name differ between disk and wire.
        var it = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s):
                // C1 controls are control characters too.
                if s.value >= 0x80 && s.value < 0xA0 { return false }
            case .emptyInput: break loop
            case .error: return false
            }
        }
        return true
    }

    /// The directory name: `.` + name.
    public var directoryName: String { "." + name }

    /// The components of the hierarchy (`["Sent", "2024"]`).
    public var components: [String] {
        name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The parent folder (`Sent` for `Sent.2024`), nil at the top level.
    public var parent: FolderName? {
        guard let dot = name.utf8.lastIndex(of: Self.separator) else { return nil }
        return try? FolderName(String(name[..<dot]))
    }

    /// True if `self` is `other` or lies below it (`a.b.c` is inside `a.b`, `a.bc` is not).
    public func isInside(_ other: FolderName) -> Bool {
        name == other.name || name.utf8.starts(with: (other.name + ".").utf8)
    }

    /// The IMAP name, `INBOX.` + name, encoded in modified UTF-7 unless `utf8` (RFC 6855).
    public func imapName(utf8: Bool = false) -> String {
        "INBOX." + (utf8 ? name : ModifiedUTF7.encode(name))
    }

    /// What an IMAP mailbox name refers to.
    public enum IMAPTarget: Hashable, Sendable {
        case inbox
        case folder(FolderName)
    }

    /// Maps an IMAP mailbox name to INBOX or a folder. `INBOX` is case-insensitive; other names
    /// must be `INBOX.<name>` (Courier: `CREATE Foo` is `NO Invalid mailbox name.`). Without
    /// `utf8` the name is decoded from modified UTF-7.
    public static func fromIMAP(_ imapName: String, utf8: Bool = false) throws(MaildirError) -> IMAPTarget {
        let bytes = Array(imapName.utf8)
        let inbox = Array("INBOX".utf8)
        guard bytes.count >= 5, zip(bytes.prefix(5), inbox).allSatisfy({ lowerASCII($0) == lowerASCII($1) }) else {
            throw .invalidFolderName(imapName)
        }
        if bytes.count == 5 { return .inbox }
        guard bytes[5] == separator else { throw .invalidFolderName(imapName) }
        let rest = bytes[6...]
        let decoded: String?
        if utf8 {
            decoded = String(validating: rest, as: UTF8.self)
        } else {
            decoded = ModifiedUTF7.decode(rest)
        }
        guard let decoded else { throw .invalidFolderName(imapName) }
        return .folder(try FolderName(decoded))
    }

    /// The folder for a directory entry `.name` in a maildir, nil if the entry is not a valid
    /// folder directory name.
    public static func fromDirectoryName(_ entry: String) -> FolderName? {
        let bytes = Array(entry.utf8)
        guard bytes.count >= 2, bytes[0] == separator else { return nil }
        return try? FolderName(String(decoding: bytes[1...], as: UTF8.self))
    }

    private static func lowerASCII(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b + 0x20 : b
    }

    public static func < (a: FolderName, b: FolderName) -> Bool {
        a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }

    public var description: String { name }
}
