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
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // A last line without its newline was cut short by a crash or a full disk: drop it.
        var dropped = 0
        if let last = lines.last {
            lines.removeLast()
            if !last.isEmpty { dropped += 1 }
        }
        guard let header = lines.first else { return .unusable(previousUIDValidity: nil) }
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
        var db = UIDDatabase(uidValidity: validity, nextUID: max(next, 1))
        // Courier writes the lines in UID order: a UID above the last one cannot be a
        // duplicate, so the set of UIDs is only consulted (and filled) for lines out of order.
        var seenUIDs = Set<UInt32>()
        var highest: UInt32 = 0
        var inOrder = true
        // Base names compare as bytes (as Courier compares them), hashed without a String set.
        var seenNames = ByteKeyTable(capacity: lines.count, keyBytes: bytes.count)
        db.entries.reserveCapacity(lines.count)
        for line in lines.dropFirst() {
            guard let entry = parseEntry(line) else {
                if !line.isEmpty { dropped += 1 }
                continue
            }
            if entry.uid <= highest {
                if inOrder {
                    seenUIDs = Set(db.entries.map(\.uid))
                    inOrder = false
                }
                if seenUIDs.contains(entry.uid) {
                    dropped += 1
                    continue
                }
            }
            guard seenNames.insert(entry.baseName, value: 0) == nil else {
                dropped += 1
                continue
            }
            if !inOrder { seenUIDs.insert(entry.uid) }
            highest = max(highest, entry.uid)
            db.entries.append(entry)
            // Never hand out a UID at or below one already in use.
            if entry.uid >= db.nextUID { db.nextUID = entry.uid == UInt32.max ? entry.uid : entry.uid + 1 }
        }
        if !inOrder { db.entries.sort { $0.uid < $1.uid } }
        return .valid(db, droppedLines: dropped)
    }

    /// `<uid> <basename>`: a positive UID, white space, then a base name without `/` or `:`.
    static func parseEntry(_ line: ArraySlice<UInt8>) -> Entry? {
        guard let (uid, used) = NumberText.parseSigned(line), uid > 0, let uid32 = UInt32(exactly: uid) else { return nil }
        var i = line.startIndex + used
        guard i < line.endIndex, line[i] == 0x20 || line[i] == 0x09 else { return nil }
        while i < line.endIndex, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        var name = line[i...]
        if name.last == 0x0D { name = name.dropLast() }
        if name.isEmpty || name.contains(UInt8(ascii: "/")) || name.contains(UInt8(ascii: ":")) || name.contains(0) { return nil }
        guard let text = String(validating: name, as: UTF8.self) else {
            return Entry(uid: uid32, baseName: String(decoding: name, as: UTF8.self))
        }
        return Entry(uid: uid32, baseName: text)
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
