/// The content of `courierimapuiddb` (access.md §1.4), version 1:
///
///     1 795709052 4                      <- version, UIDVALIDITY, next UID
///     1 1795709016.M245843P14698V…vm,S=168   <- UID and base name (no :2, part), by UID
///
/// Parsing is pure and forgiving in the safe direction: whatever cannot be trusted is dropped,
/// so the affected messages get new UIDs above every UID ever handed out; a UID is never reused.
public struct UIDDatabase: Hashable, Sendable {
    public static let version: Int64 = 1
    /// Courier's IMAP_EPOCH: UIDVALIDITY is a time stamp minus this.
    public static let epoch: Int64 = 1_000_000_000

    /// One message: its UID and base name.
    public struct Entry: Hashable, Sendable {
        public var uid: UInt32
        public var baseName: String

        public init(uid: UInt32, baseName: String) {
            self.uid = uid
            self.baseName = baseName
        }
    }

    public var uidValidity: UInt32
    public var nextUID: UInt32
    /// Sorted by UID, UIDs and base names unique.
    public var entries: [Entry]

    public init(uidValidity: UInt32, nextUID: UInt32, entries: [Entry] = []) {
        self.uidValidity = uidValidity
        self.nextUID = nextUID
        self.entries = entries
    }

    /// What `parse` found.
    public enum Parsed: Hashable, Sendable {
        /// A usable database; `droppedLines` counts lines that were ignored (damage).
        case valid(UIDDatabase, droppedLines: Int)
        /// No usable header (missing, other version, garbage): start afresh with a new
        /// UIDVALIDITY. If a UIDVALIDITY could still be read it is given, so that the new one
        /// can be chosen different from it.
        case unusable(previousUIDValidity: UInt32?)
    }

    /// Parses the file's bytes (the fuzz entry point).
    public static func parse(_ bytes: [UInt8]) -> Parsed {
        var entries: [Entry] = []
        let result = parseIndexed(bytes) { uid, name in
            entries.append(Entry(uid: uid, baseName: String(decoding: name, as: UTF8.self)))
        }
        switch result {
        case .unusable(let previous):
            return .unusable(previousUIDValidity: previous)
        case .valid(let index):
            var db = UIDDatabase(uidValidity: index.uidValidity, nextUID: index.nextUID, entries: entries)
            if !index.inUIDOrder { db.entries.sort { $0.uid < $1.uid } }
            return .valid(db, droppedLines: index.droppedLines)
        }
    }

    /// The database as a folder scan uses it: the UIDs, and a table from each base name's
    /// bytes to its UID's position in `uids`. No String is made per line (for 100,000 messages
    /// a String each and a second table over them were a large part of a rescan).
    public struct Index: Sendable {
        public var uidValidity: UInt32
        /// Above every UID in the file (and at least the header's).
        public var nextUID: UInt32
        /// In file order (`inUIDOrder` when that is by UID, as Courier writes them).
        public var uids: [UInt32]
        /// Base name → position in `uids`.
        public var names: ByteKeyTable
        public var droppedLines: Int
        public var inUIDOrder: Bool
    }

    /// What `parseIndexed` found.
    public enum IndexedParse: Sendable {
        case valid(Index)
        case unusable(previousUIDValidity: UInt32?)
    }

    /// Parses the file's bytes into an `Index`, with the rules of `parse` (the same lines are
    /// kept and dropped); `accepted` sees each kept line's UID and base name, in file order.
    public static func parseIndexed(_ bytes: [UInt8],
                                    accepted: (UInt32, UnsafeBufferPointer<UInt8>) -> Void = { _, _ in }) -> IndexedParse {
        bytes.withUnsafeBufferPointer { b in parseIndexed(b, accepted: accepted) }
    }

    static func parseIndexed(_ b: UnsafeBufferPointer<UInt8>,
                             accepted: (UInt32, UnsafeBufferPointer<UInt8>) -> Void) -> IndexedParse {
        let n = b.count
        // A last line without its newline was cut short by a crash or a full disk: drop it.
        var dropped = 0
        var usable = n
        while usable > 0 && b[usable - 1] != 0x0A { usable -= 1 }
        if usable < n { dropped += 1 }
        guard usable > 0, let headerEnd = b[..<usable].firstIndex(of: 0x0A) else {
            return .unusable(previousUIDValidity: nil)
        }
        let header = UnsafeBufferPointer(rebasing: b[..<headerEnd])
        let fields = header.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
        let numbers = fields.map { field -> Int64? in
            guard let (v, used) = NumberText.parseSigned(field), used == field.count else { return nil }
            return v
        }
        let previous: UInt32? = numbers.count >= 2 ? numbers[1].flatMap { UInt32(exactly: $0) } : nil
        guard numbers.count == 3, numbers[0] == version,
              let validity = numbers[1].flatMap({ UInt32(exactly: $0) }), validity > 0,
              let next = numbers[2].flatMap({ UInt32(exactly: $0) }) else {
            return .unusable(previousUIDValidity: previous)
        }
        // A line is at least a few bytes: the tables are sized from the file's length.
        let lineEstimate = max(usable / 48, 16)
        var index = Index(uidValidity: validity, nextUID: max(next, 1), uids: [],
                          names: ByteKeyTable(capacity: lineEstimate, keyBytes: usable),
                          droppedLines: 0, inUIDOrder: true)
        index.uids.reserveCapacity(lineEstimate)
        // Courier writes the lines in UID order: a UID above the last one cannot be a
        // duplicate, so the set of UIDs is only consulted (and filled) for lines out of order.
        var seenUIDs = Set<UInt32>()
        var highest: UInt32 = 0
        var i = headerEnd + 1
        while i < usable {
            var end = i
            while b[end] != 0x0A { end += 1 }   // usable ends with a newline
            let line = UnsafeBufferPointer(rebasing: b[i..<end])
            i = end + 1
            guard let (uid, raw, ascii) = parseEntry(line) else {
                if !line.isEmpty { dropped += 1 }
                continue
            }
            // A name that is not ASCII is keyed by its bytes as a String holds them (invalid
            // UTF-8 repaired), as the names read from cur/ are.
            let repaired: [UInt8] = ascii ? [] : Array(String(decoding: raw, as: UTF8.self).utf8)
            if uid <= highest {
                if index.inUIDOrder {
                    seenUIDs = Set(index.uids)
                    index.inUIDOrder = false
                }
                if seenUIDs.contains(uid) {
                    dropped += 1
                    continue
                }
            }
            let inserted = repaired.withUnsafeBufferPointer { fixed -> Bool in
                let name = ascii ? raw : fixed
                // Base names compare as bytes (as Courier compares them).
                guard index.names.insert(name, value: Int32(truncatingIfNeeded: index.uids.count)) == nil else { return false }
                accepted(uid, name)
                return true
            }
            guard inserted else {
                dropped += 1
                continue
            }
            if !index.inUIDOrder { seenUIDs.insert(uid) }
            highest = max(highest, uid)
            index.uids.append(uid)
            // Never hand out a UID at or below one already in use.
            if uid >= index.nextUID { index.nextUID = uid == UInt32.max ? uid : uid + 1 }
        }
        index.droppedLines = dropped
        return .valid(index)
    }

    /// `<uid> <basename>`: a positive UID, white space, then a base name without `/`, `:` or
    /// NUL (a trailing CR is not part of it); whether the name is all ASCII.
    static func parseEntry(_ line: UnsafeBufferPointer<UInt8>) -> (UInt32, UnsafeBufferPointer<UInt8>, ascii: Bool)? {
        guard let (uid, used) = NumberText.parseSigned(line), uid > 0, let uid32 = UInt32(exactly: uid) else { return nil }
        var i = used
        guard i < line.count, line[i] == 0x20 || line[i] == 0x09 else { return nil }
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        var end = line.count
        if end > i, line[end - 1] == 0x0D { end -= 1 }
        let name = UnsafeBufferPointer(rebasing: line[i..<end])
        if name.isEmpty { return nil }
        var high: UInt8 = 0
        for c in name {
            if c == UInt8(ascii: "/") || c == UInt8(ascii: ":") || c == 0 { return nil }
            high |= c
        }
        return (uid32, name, high < 0x80)
    }

    /// The file's bytes: header, then one line per entry in UID order.
    public func formatted() -> [UInt8] {
        var out = Array("\(Self.version) \(uidValidity) \(nextUID)\n".utf8)
        for e in entries.sorted(by: { $0.uid < $1.uid }) {
            out.append(contentsOf: "\(e.uid) \(e.baseName)\n".utf8)
        }
        return out
    }

    /// A UIDVALIDITY for a new database created at `time`: `time - IMAP_EPOCH`, but never equal to
    /// (and, when it can be, above) a `previous` one.
    public static func newUIDValidity(time: Int64, previous: UInt32? = nil) -> UInt32 {
        var v = time - epoch
        if v < 1 { v = 1 }
        if v > Int64(UInt32.max) { v = Int64(UInt32.max) }
        var result = UInt32(v)
        if let previous, result <= previous {
            result = previous == UInt32.max ? 1 : previous + 1
        }
        return result
    }
}
