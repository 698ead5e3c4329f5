/// A message file name in `new/` or `cur/`, taken apart (access.md §1.2):
///
///     <secs>.M<usecs>P<pid>[V<dev>I<ino>][_<n>].<host>[,S=<size>][,W=<size>][:2,<flags>]
///
/// Only the parts readers need are interpreted: the base name (the key of `courierimapuiddb`
/// and `courierimapkeywords`), the info part and its flags, and the `,S=`/`,W=` size hints.
/// Everything else is opaque. Parsing is pure and total: any bytes give a value.
public struct MessageFileName: Hashable, Sendable, CustomStringConvertible {
    /// The whole file name.
    public let name: String

    public init(_ name: String) { self.name = name }

    /// The name up to (not including) the first `:`.
    public var baseName: String { Self.baseName(of: name) }

    /// The info part after the first `:` (e.g. `2,FS`), or nil.
    public var info: String? {
        guard let colon = name.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return String(name[name.utf8.index(after: colon)...])
    }

    /// The flags if the info part is Courier's `2,` kind; nil for no info or another version.
    public var flags: MessageFlags? {
        guard let info, info.utf8.starts(with: "2,".utf8) else { return nil }
        return MessageFlags(letters: info.utf8.dropFirst(2))
    }

    /// The size in bytes from `,S=<n>` (Maildir++ quota shortcut), or nil.
    public var sizeHint: Int64? { Self.sizeHint(in: Array(name.utf8)) }

    /// Dovecot's `,W=<n>` (size with CRLF line ends), or nil. Courier ignores it; we may use it
    /// as an RFC822.SIZE hint.
    public var virtualSizeHint: Int64? { Array(name.utf8).withUnsafeBufferPointer { Self.field(UInt8(ascii: "W"), in: $0) } }

    /// True unless the message is flagged `T` (Courier's default build does not count
    /// trashed messages towards the quota).
    public var countsTowardQuota: Bool { Self.countsTowardQuota(Array(name.utf8)) }

    /// The name for these `flags` in `cur/`: base name + `:2,` + letters.
    public func withFlags(_ flags: MessageFlags) -> MessageFileName {
        MessageFileName(baseName + flags.infoSuffix)
    }

    public var description: String { name }

    // MARK: pure byte-level entry points (also the fuzz entry points)

    /// The base name: `name` up to the first `:`.
    public static func baseName(of name: String) -> String {
        guard let colon = name.utf8.firstIndex(of: UInt8(ascii: ":")) else { return name }
        return String(name[..<colon])
    }

    /// Courier's reading of `,S=`: the last `,S=` before the info part; digits after it.
    public static func sizeHint(in bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBufferPointer { sizeHint(in: $0) }
    }

    /// `sizeHint(in:)` over bytes read in place (a directory entry's name).
    public static func sizeHint(in bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        field(UInt8(ascii: "S"), in: bytes)
    }

    static func field(_ letter: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var start = 0
        if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) { start = slash + 1 }
        let end = bytes[start...].firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
        var i = end - 3
        while i >= start {
            if bytes[i] == UInt8(ascii: ","), bytes[i + 1] == letter, bytes[i + 2] == UInt8(ascii: "=") {
                var value: Int64 = 0
                var j = i + 3
                while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int64(bytes[j] - 0x30))
                    if o1 || o2 { return nil }
                    value = a
                    j += 1
                }
                return value
            }
            i -= 1
        }
        return nil
    }

    /// Courier's rule: after the first `:2,`, a `T` among the following upper-case letters
    /// means "not counted"; a lower-case letter ends the scan.
    public static func countsTowardQuota(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { countsTowardQuota($0) }
    }

    /// `countsTowardQuota(_:)` over bytes read in place (a directory entry's name).
    public static func countsTowardQuota(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) { start = slash + 1 }
        var i = start
        while i + 2 < bytes.count {
            if bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: "2"), bytes[i + 2] == UInt8(ascii: ",") {
                var j = i + 3
                while j < bytes.count, bytes[j] >= 0x41, bytes[j] <= 0x5A {
                    if bytes[j] == UInt8(ascii: "T") { return false }
                    j += 1
                }
                return true
            }
            i += 1
        }
        return true
    }
}
