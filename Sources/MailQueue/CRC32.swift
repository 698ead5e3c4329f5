/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), used to detect torn or corrupt
/// records in the queue log.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = (value & 1) != 0 ? (0xEDB8_8320 ^ (value >> 1)) : (value >> 1)
        }
        return value
    }

    static func update(_ crc: UInt32, _ bytes: some Collection<UInt8>) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8)
            }
        }
        return ~value
    }

    static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        update(0, bytes)
    }
}
