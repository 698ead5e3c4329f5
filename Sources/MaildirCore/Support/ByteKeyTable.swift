/// A hash table from byte strings to `Int32`, for the big per-folder tables a rescan builds
/// once and probes once per message (base name → UID, base name → index entry). The keys'
/// bytes are kept one after the other in a single buffer and hashed with a cheap seeded
/// word-at-a-time hash, instead of one `String` and one SipHash pass per key: for 100,000
/// file names that was a large part of a rescan.
///
/// Open addressing with linear probing; the table doubles when half full. The seed is random
/// per process, so no set of names (the user's own files) collides the same way twice.
public struct ByteKeyTable: Sendable {
    /// One slot: the key's hash, its value, and where its bytes are (`start` + 1; 0: empty),
    /// so that a probe touches the slot and, for a hash match, the key's bytes, nothing else.
    struct Slot {
        var hash: UInt32 = 0
        var value: Int32 = 0
        var start: UInt32 = 0
        var length: UInt32 = 0
    }

    private var keys: [UInt8] = []
    /// A power of two of them; at most half in use.
    private var slots: [Slot]
    public private(set) var count = 0

    static let seed: UInt64 = UInt64.random(in: 1...UInt64.max)

    /// A table for about `capacity` keys of about `keyBytes` bytes in all.
    public init(capacity: Int = 16, keyBytes: Int = 0) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        keys.reserveCapacity(keyBytes)
    }

    /// The hash of `key` (seeded, 64 bits folded to 32).
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h = seed ^ (UInt64(key.count) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        let n = key.count
        if let base = key.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
                h ^= h >> 31
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return UInt32(truncatingIfNeeded: h)
    }

    /// The slot index of `key`: where it is, or the empty slot where it would go.
    private func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt32) -> (index: Int, found: Bool) {
        slots.withUnsafeBufferPointer { table in
            keys.withUnsafeBufferPointer { stored in
                let mask = table.count - 1
                var s = Int(h) & mask
                while true {
                    let slot = table[s]
                    if slot.start == 0 { return (s, false) }
                    if slot.hash == h && Int(slot.length) == key.count
                        && (key.isEmpty || memcmpBytes(stored.baseAddress! + Int(slot.start - 1), key.baseAddress!, key.count)) {
                        return (s, true)
                    }
                    s = (s + 1) & mask
                }
            }
        }
    }

    /// The value stored for `key`, if any.
    public func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let (s, found) = find(key, hash: Self.hash(key))
        return found ? slots[s].value : nil
    }

    /// The value stored for the UTF-8 bytes of `key`.
    public func value(for key: String) -> Int32? {
        if let found = key.utf8.withContiguousStorageIfAvailable({ value(for: $0) }) { return found }
        return Array(key.utf8).withUnsafeBufferPointer { value(for: $0) }
    }

    /// Stores `value` for `key` unless the key is there already; returns the value that was
    /// there (and is kept), or nil when `key` was added. (A table past 4 GB of key bytes takes
    /// no more keys: they are then not found, which callers treat as unknown.)
    @discardableResult
    public mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value: Int32) -> Int32? {
        guard keys.count + key.count < Int(UInt32.max) else { return nil }
        if (count + 1) * 2 > slots.count { grow() }
        let h = Self.hash(key)
        let (s, found) = find(key, hash: h)
        if found { return slots[s].value }
        slots[s] = Slot(hash: h, value: value, start: UInt32(keys.count + 1), length: UInt32(key.count))
        keys.append(contentsOf: key)
        count += 1
        return nil
    }

    /// `insert` with the UTF-8 bytes of `key`.
    @discardableResult
    public mutating func insert(_ key: String, value: Int32) -> Int32? {
        var key = key
        return key.withUTF8 { insert($0, value: value) }
    }

    /// Replaces the value of a key that is in the table (by the value `insert` returned).
    public mutating func replaceValue(for key: UnsafeBufferPointer<UInt8>, with value: Int32) {
        let (s, found) = find(key, hash: Self.hash(key))
        if found { slots[s].value = value }
    }

    private mutating func grow() {
        var fresh = [Slot](repeating: Slot(), count: slots.count * 2)
        let mask = fresh.count - 1
        for slot in slots where slot.start != 0 {
            var s = Int(slot.hash) & mask
            while fresh[s].start != 0 { s = (s + 1) & mask }
            fresh[s] = slot
        }
        slots = fresh
    }

    /// Every key (as a String, in insertion order) with its value: for tests and callers that
    /// need the whole table.
    public var pairs: [(key: String, value: Int32)] {
        slots.filter { $0.start != 0 }.sorted { $0.start < $1.start }.map { slot in
            (String(decoding: keys[Int(slot.start - 1)..<Int(slot.start - 1 + slot.length)], as: UTF8.self), slot.value)
        }
    }
}

/// Byte equality of two ranges of `count` bytes.
@inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= count {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
