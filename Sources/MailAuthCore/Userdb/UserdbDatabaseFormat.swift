/// The compiled userdb file (`userdb.dat`, `userdbshadow.dat`): our own format, a static hash
/// table that a reader maps into memory and probes without parsing the whole file.
///
/// All integers are little-endian.
/// ```
/// offset  size  field
///  0       8    magic "CUSRDB01"
///  8       4    record count N
/// 12       4    bucket count B (a power of two)
/// 16       8    total file size (a truncated file is rejected)
/// 24       4*(B+1)  bucket table: first entry index of each bucket; entry [B] = N
/// ...     16*N  entries, grouped by bucket: hash(4) dataOffset(4) nameLength(4) valueLength(4)
/// ...           data: name bytes then value bytes of each entry
/// ```
/// The value is the record's fields as in the text file (`field=value|field=value`).
/// The hash is FNV-1a (32 bit) of the name; the bucket is `hash & (B - 1)`.
public enum UserdbDatabaseFormat {
    public static let magic: [UInt8] = Array("CUSRDB01".utf8)
    static let headerSize = 24
    static let entrySize = 16
    /// Largest compiled file we write or map (bytes).
    public static let maxFileBytes = 2 * 1024 * 1024 * 1024 - 1

    /// FNV-1a, 32 bit.
    @inline(__always)
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var value: UInt32 = 0x811c_9dc5
        for byte in bytes {
            value ^= UInt32(byte)
            value = value &* 0x0100_0193
        }
        return value
    }

    /// The compiled bytes of `entries` (name, value). Later duplicates of a name are the
    /// caller's business: `UserdbCompiler` removes them first.
    public static func build(_ entries: [(name: [UInt8], value: [UInt8])]) -> [UInt8] {
        var bucketCount = 1
        while bucketCount < entries.count { bucketCount <<= 1 }
        let hashed = entries.map { (hash: hash($0.name), name: $0.name, value: $0.value) }
        let order = hashed.indices.sorted { left, right in
            let a = Int(hashed[left].hash) & (bucketCount - 1)
            let b = Int(hashed[right].hash) & (bucketCount - 1)
            return a != b ? a < b : left < right
        }
        var starts = [UInt32](repeating: 0, count: bucketCount + 1)
        for entry in hashed { starts[Int(entry.hash) & (bucketCount - 1) + 1] += 1 }
        for index in 1...bucketCount { starts[index] += starts[index - 1] }

        let dataStart = headerSize + 4 * (bucketCount + 1) + entrySize * entries.count
        let dataSize = entries.reduce(0) { $0 + $1.name.count + $1.value.count }
        var out: [UInt8] = []
        out.reserveCapacity(dataStart + dataSize)
        out += magic
        append32(&out, UInt32(entries.count))
        append32(&out, UInt32(bucketCount))
        append64(&out, UInt64(dataStart + dataSize))
        for start in starts { append32(&out, start) }
        var offset = dataStart
        for index in order {
            let entry = hashed[index]
            append32(&out, entry.hash)
            append32(&out, UInt32(offset))
            append32(&out, UInt32(entry.name.count))
            append32(&out, UInt32(entry.value.count))
            offset += entry.name.count + entry.value.count
        }
        for index in order {
            out += hashed[index].name
            out += hashed[index].value
        }
        return out
    }

    private static func append32(_ out: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func append64(_ out: inout [UInt8], _ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// A read-only view of compiled userdb bytes (mapped or in memory). Every read is bounds-checked,
/// so a corrupt or hostile file yields "not found" or nil, never a crash.
public struct UserdbDatabaseView {
    let base: UnsafeRawBufferPointer
    let recordCount: Int
    let bucketCount: Int

    /// Validates the header; nil when `bytes` is not a complete compiled userdb.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        let magic = UserdbDatabaseFormat.magic
        guard bytes.count >= UserdbDatabaseFormat.headerSize,
              bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        base = bytes
        let records = Int(Self.read32(bytes, 8))
        let buckets = Int(Self.read32(bytes, 12))
        let size = Self.read64(bytes, 16)
        guard size == UInt64(bytes.count), buckets > 0, buckets & (buckets - 1) == 0 else { return nil }
        let tables = UserdbDatabaseFormat.headerSize + 4 * (buckets + 1) + UserdbDatabaseFormat.entrySize * records
        guard tables <= bytes.count else { return nil }
        recordCount = records
        bucketCount = buckets
    }

    @inline(__always)
    static func read32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    static func read64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(read32(bytes, offset)) | UInt64(read32(bytes, offset + 4)) << 32
    }

    public var count: Int { recordCount }

    private var entriesStart: Int { UserdbDatabaseFormat.headerSize + 4 * (bucketCount + 1) }

    /// (name range, value range) of entry `index`, when it lies inside the file.
    private func entry(_ index: Int) -> (hash: UInt32, name: Range<Int>, value: Range<Int>)? {
        guard index >= 0, index < recordCount else { return nil }
        let at = entriesStart + index * UserdbDatabaseFormat.entrySize
        let offset = Int(Self.read32(base, at + 4))
        let nameLength = Int(Self.read32(base, at + 8))
        let valueLength = Int(Self.read32(base, at + 12))
        guard offset <= base.count, nameLength <= base.count - offset,
              valueLength <= base.count - offset - nameLength else { return nil }
        return (Self.read32(base, at), offset..<(offset + nameLength), (offset + nameLength)..<(offset + nameLength + valueLength))
    }

    /// The value stored for `name`, or nil.
    public func value(for name: some Collection<UInt8>) -> [UInt8]? {
        let hash = UserdbDatabaseFormat.hash(name)
        let bucket = Int(hash) & (bucketCount - 1)
        let first = Int(Self.read32(base, UserdbDatabaseFormat.headerSize + 4 * bucket))
        let end = Int(Self.read32(base, UserdbDatabaseFormat.headerSize + 4 * (bucket + 1)))
        guard first <= end, end <= recordCount else { return nil }
        for index in first..<end {
            guard let found = entry(index), found.hash == hash else { continue }
            if found.name.count == name.count, base[found.name].elementsEqual(name) {
                return Array(base[found.value])
            }
        }
        return nil
    }

    /// Every (name, value), in file order (for `authenumerate` and tests).
    public func allEntries() -> [(name: [UInt8], value: [UInt8])] {
        (0..<recordCount).compactMap { index in
            entry(index).map { (Array(base[$0.name]), Array(base[$0.value])) }
        }
    }
}
