/// SHA-1 (FIPS 180-4 §6.1): `{SHA}`, `{SSHA}`, HMAC-SHA1 (CRAM-SHA1, `hmac-sha1pw`), SCRAM-SHA-1.
public struct SHA1: MessageDigest {
    public static let blockSize = 64
    public static let outputSize = 20
    public static let lengthFieldSize = 8
    public static let bigEndianLength = true

    public var pending: [UInt8] = []
    public var processedLength: UInt64 = 0
    private var state: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]

    public init() {}

    public mutating func compress(_ block: UnsafeRawBufferPointer) {
        var schedule = [UInt32](repeating: 0, count: 80)
        for index in 0..<16 { schedule[index] = loadBigEndian32(block, index * 4) }
        for index in 16..<80 {
            schedule[index] = rotateLeft(schedule[index - 3] ^ schedule[index - 8] ^ schedule[index - 14] ^ schedule[index - 16], 1)
        }
        var a = state[0], b = state[1], c = state[2], d = state[3], e = state[4]
        for round in 0..<80 {
            let mixed: UInt32
            let constant: UInt32
            switch round {
            case 0..<20: mixed = (b & c) | (~b & d); constant = 0x5a82_7999
            case 20..<40: mixed = b ^ c ^ d; constant = 0x6ed9_eba1
            case 40..<60: mixed = (b & c) | (b & d) | (c & d); constant = 0x8f1b_bcdc
            default: mixed = b ^ c ^ d; constant = 0xca62_c1d6
            }
            let next = rotateLeft(a, 5) &+ mixed &+ e &+ constant &+ schedule[round]
            e = d
            d = c
            c = rotateLeft(b, 30)
            b = a
            a = next
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d; state[4] &+= e
    }

    public var chainingValue: [UInt8] { serializeBigEndian(state) }

    public mutating func setChainingValue(_ bytes: [UInt8]) -> Bool {
        guard let words = deserializeBigEndian(bytes, words: 5) else { return false }
        state = words
        return true
    }
}
