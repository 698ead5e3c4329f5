#if canImport(Glibc)
import Glibc
#endif

/// `courierpop3dsizelist` at the top of a Maildir (spec/access.md §3.3): the POP3 sizes and
/// UIDs Courier keeps so that UIDLs stay stable. Version 3:
///
///     /3 <nextuid> <uidvalidity>
///     <file name with flags> <crlf size> <uid>:<uidv>:<utf8>
///
/// Version 2 entries lack `:<utf8>`; a file of another version (or none) is ignored, as
/// Courier ignores it. Parsing is pure and total.
public struct POP3SizeList: Equatable, Sendable {
    /// One remembered message.
    public struct Entry: Equatable, Sendable {
        public var fileName: String
        public var size: Int64
        public var uid: UInt64
        public var uidValidity: UInt64
        public var utf8: Bool

        public init(fileName: String, size: Int64, uid: UInt64, uidValidity: UInt64, utf8: Bool = false) {
            self.fileName = fileName
            self.size = size
            self.uid = uid
            self.uidValidity = uidValidity
            self.utf8 = utf8
        }

        /// The UIDL Courier shows for this entry: `UID<n>-<uidv>`, `UID<n>` for uidv 0, or the
        /// file-name form for uid 0 (version 0 lists).
        public var uidl: String {
            if uid != 0 { return uidValidity != 0 ? "UID\(uid)-\(uidValidity)" : "UID\(uid)" }
            return POP3SizeList.legacyUIDL(fileName: fileName)
        }
    }

    public static let currentVersion = 3
    public var version: Int
    public var nextUID: UInt64
    public var uidValidity: UInt64
    public var entries: [Entry]

    public init(version: Int = currentVersion, nextUID: UInt64, uidValidity: UInt64, entries: [Entry] = []) {
        self.version = version
        self.nextUID = nextUID
        self.uidValidity = uidValidity
        self.entries = entries
    }

    /// Reads a list; nil when the header is missing or names a version we do not read
    /// (Courier then starts a new list with a new UIDVALIDITY).
    public static func parse(_ bytes: [UInt8]) -> POP3SizeList? {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard let header = lines.first, header.first == UInt8(ascii: "/") else { return nil }
        let fields = header.dropFirst().split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let version = Int(text(fields[0])), version == 3 || version == 2,
              let next = UInt64(text(fields[1])) else { return nil }
        let uidv = fields.count >= 3 ? UInt64(text(fields[2])) ?? 0 : 0
        var list = POP3SizeList(version: version, nextUID: next, uidValidity: uidv)
        for line in lines.dropFirst() where line.count < 2048 {
            // The last two space-separated fields are size and uid; the name may hold spaces.
            guard let lastSpace = line.lastIndex(of: UInt8(ascii: " ")) else { continue }
            let head = line[..<lastSpace]
            guard let sizeSpace = head.lastIndex(of: UInt8(ascii: " ")), sizeSpace > line.startIndex else { continue }
            let name = text(line[..<sizeSpace])
            guard let size = decimal(line[(sizeSpace + 1)..<lastSpace]).flatMap({ Int64(exactly: $0) }) else { continue }
            let ids = line[(lastSpace + 1)...].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard ids.count >= 2, let uid = decimal(ids[0]), let entryUIDV = decimal(ids[1]) else { continue }
            let utf8 = ids.count >= 3 ? (Int(text(ids[2])) ?? 0) != 0 : false
            list.entries.append(Entry(fileName: name, size: size, uid: uid, uidValidity: entryUIDV, utf8: utf8))
        }
        return list
    }

    /// The file in the current version.
    public func serialized() -> [UInt8] {
        var out = "/\(Self.currentVersion) \(nextUID) \(uidValidity)\n"
        for entry in entries {
            out += "\(entry.fileName) \(entry.size) \(entry.uid):\(entry.uidValidity):\(entry.utf8 ? 1 : 0)\n"
        }
        return Array(out.utf8)
    }

    /// Version 0 UIDL: the base name, bytes outside 0x21–0x7E and `'` `"` `+` as `+XX`.
    public static func legacyUIDL(fileName: String) -> String {
        var out = ""
        for byte in fileName.utf8 {
            if byte == UInt8(ascii: ":") { break }
            if byte < 0x21 || byte > 0x7e || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "+") {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "+" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// Courier's message order: by the leading number of the name (arrival time), then by the
    /// bytes of the base name (up to `:`). Two names are "the same message" when neither sorts
    /// before the other.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let na = leadingNumber(a), nb = leadingNumber(b)
        if na != nb { return na < nb }
        var ia = a.utf8.makeIterator(), ib = b.utf8.makeIterator()
        while true {
            let ca = ia.next(), cb = ib.next()
            if ca == nil && cb == nil { return false }
            if ca == UInt8(ascii: ":") && cb == UInt8(ascii: ":") { return false }
            let va = ca.map(Int.init) ?? 0, vb = cb.map(Int.init) ?? 0
            if va < vb { return true }
            if va > vb { return false }
        }
    }

    /// ``precedes(_:_:)`` as a precomputed key: the leading number, then the name's bytes up
    /// to and including its first `:`. Sorting by keys parses each name once instead of twice
    /// per comparison (the login path sorts every name of `cur/`); the key keeps the name and
    /// the length of that prefix, so making one allocates nothing.
    public struct OrderKey: Comparable, Sendable {
        let number: Int64
        let name: String
        /// UTF-8 bytes of `name` that take part: up to and including the first `:`.
        let baseCount: Int

        public init(_ name: String) {
            number = POP3SizeList.leadingNumber(name)
            self.name = name
            var count = 0
            for byte in name.utf8 {
                count += 1
                if byte == UInt8(ascii: ":") { break }
            }
            baseCount = count
        }

        public static func < (a: OrderKey, b: OrderKey) -> Bool {
            if a.number != b.number { return a.number < b.number }
            return a.basePrecedes(b)
        }

        public static func == (a: OrderKey, b: OrderKey) -> Bool {
            !(a < b) && !(b < a)
        }

        private func basePrecedes(_ other: OrderKey) -> Bool {
            let fast = name.utf8.withContiguousStorageIfAvailable { mine in
                other.name.utf8.withContiguousStorageIfAvailable { theirs -> Bool in
                    let common = Swift.min(baseCount, other.baseCount)
                    if common > 0, let p = mine.baseAddress, let q = theirs.baseAddress {
                        let order = memcmp(p, q, common)
                        if order != 0 { return order < 0 }
                    }
                    return baseCount < other.baseCount
                }
            }
            if let fast, let result = fast { return result }
            return name.utf8.prefix(baseCount).lexicographicallyPrecedes(other.name.utf8.prefix(other.baseCount))
        }
    }

    /// `names` in Courier's order (stable for equal keys).
    public static func sortedInCourierOrder(_ names: [String]) -> [(key: OrderKey, name: String)] {
        var keyed = names.map { (key: OrderKey($0), name: $0) }
        if !zip(keyed, keyed.dropFirst()).allSatisfy({ !($1.key < $0.key) }) {
            keyed.sort { $0.key < $1.key }
        }
        return keyed
    }

    static func leadingNumber(_ name: String) -> Int64 {
        var value: Int64 = 0
        for byte in name.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(byte - 0x30))
            if o1 || o2 { return Int64.max }
            value = s
        }
        return value
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// ASCII digits as a number (what `UInt64(String)` accepts for them, `+` aside), without
    /// making a String; nil for anything else or on overflow.
    static func decimal(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = m.addingReportingOverflow(UInt64(byte - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}
