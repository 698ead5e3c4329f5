/// A Merkle–Damgård hash function (MD5, SHA-1, SHA-2) implemented in plain Swift, so that the
/// lean tools can verify passwords without Foundation or BoringSSL, and so that Courier's
/// HMAC "intermediate state" password fields (`hmac-md5pw`, …) can be made and used: those
/// store the chaining value after one block, which no high-level crypto API exposes.
///
/// The stored `pending`/`processedLength` members are implementation details shared by the
/// protocol extension; use `update`, `finalize` and `hash`.
public protocol MessageDigest: Sendable {
    /// Bytes per compression block (64, or 128 for SHA-512).
    static var blockSize: Int { get }
    /// Bytes of output.
    static var outputSize: Int { get }
    /// Bytes of the length field in the final padding (8, or 16 for SHA-512).
    static var lengthFieldSize: Int { get }
    /// True when the padding length is big-endian (SHA family); MD5's is little-endian.
    static var bigEndianLength: Bool { get }

    /// A fresh hash with the standard initial value.
    init()
    /// Bytes not yet compressed (fewer than `blockSize`).
    var pending: [UInt8] { get set }
    /// Bytes fed so far, including any offset given with `init(chainingValue:processedLength:)`.
    var processedLength: UInt64 { get set }
    /// Runs the compression function over exactly one block.
    mutating func compress(_ block: UnsafeRawBufferPointer)
    /// The current chaining value, serialised as the digest would be (`outputSize` bytes).
    var chainingValue: [UInt8] { get }
    /// Replaces the chaining value; false when `bytes` has the wrong length.
    mutating func setChainingValue(_ bytes: [UInt8]) -> Bool
}

extension MessageDigest {
    /// A hash that resumes from a saved chaining value, as if `processedLength` bytes
    /// (a multiple of the block size) had already been fed. Nil on a wrong-sized value.
    public init?(chainingValue: [UInt8], processedLength: Int) {
        self.init()
        guard setChainingValue(chainingValue), processedLength >= 0 else { return nil }
        self.processedLength = UInt64(processedLength)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ text: String) {
        update(Array(text.utf8))
    }

    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        let block = Self.blockSize
        processedLength &+= UInt64(raw.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(block - pending.count, raw.count)
            pending.append(contentsOf: raw[0..<take])
            offset = take
            guard pending.count == block else { return }
            let full = pending
            full.withUnsafeBytes { compress($0) }
            pending.removeAll(keepingCapacity: true)
        }
        while raw.count - offset >= block {
            compress(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + block)]))
            offset += block
        }
        if offset < raw.count {
            pending.append(contentsOf: raw[offset...])
        }
    }

    /// Pads, compresses the last blocks and returns the digest.
    public mutating func finalize() -> [UInt8] {
        let bitLength = processedLength &* 8
        var tail = pending
        tail.append(0x80)
        let block = Self.blockSize
        while tail.count % block != block - Self.lengthFieldSize {
            tail.append(0)
        }
        var lengthBytes = [UInt8](repeating: 0, count: Self.lengthFieldSize)
        for index in 0..<8 {
            let byte = UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(index)))
            if Self.bigEndianLength {
                lengthBytes[Self.lengthFieldSize - 1 - index] = byte
            } else {
                lengthBytes[index] = byte
            }
        }
        tail += lengthBytes
        tail.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                compress(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + block)]))
                offset += block
            }
        }
        pending.removeAll()
        return chainingValue
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = Self()
        digest.update(bytes)
        return digest.finalize()
    }

    public static func hash(_ text: String) -> [UInt8] {
        hash(Array(text.utf8))
    }
}

@inline(__always)
func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value << count) | (value >> (32 - count))
}

@inline(__always)
func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value >> count) | (value << (32 - count))
}

@inline(__always)
func rotateRight64(_ value: UInt64, _ count: UInt64) -> UInt64 {
    (value >> count) | (value << (64 - count))
}

@inline(__always)
func loadBigEndian32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(raw[offset]) << 24 | UInt32(raw[offset + 1]) << 16 | UInt32(raw[offset + 2]) << 8 | UInt32(raw[offset + 3])
}

@inline(__always)
func loadBigEndian64(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
    UInt64(loadBigEndian32(raw, offset)) << 32 | UInt64(loadBigEndian32(raw, offset + 4))
}

func serializeBigEndian(_ words: [UInt32]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(words.count * 4)
    for word in words {
        out += [UInt8(truncatingIfNeeded: word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
    }
    return out
}

func deserializeBigEndian(_ bytes: [UInt8], words: Int) -> [UInt32]? {
    guard bytes.count == words * 4 else { return nil }
    return (0..<words).map { index in
        let at = index * 4
        return UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
