/// HMAC (RFC 2104) over any `MessageDigest`, plus the saved intermediate state that Courier's
/// `hmac-*pw` userdb fields hold.
public enum HMAC<Digest: MessageDigest> {
    /// The key as one block: hashed first when longer than a block (RFC 2104 §2), zero-padded.
    private static func blockKey(_ key: [UInt8]) -> [UInt8] {
        var material = key.count > Digest.blockSize ? Digest.hash(key) : key
        material += [UInt8](repeating: 0, count: Digest.blockSize - material.count)
        return material
    }

    /// HMAC(key, message).
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        let state = precompute(key: key)
        return authenticate(message, precomputed: state)
    }

    /// The chaining values after hashing `key XOR opad` and `key XOR ipad` (one block each).
    /// These are what Courier's `userdbpw -hmac-*` prints (outer first, then inner), and they
    /// are enough to compute the HMAC of any message without the password.
    public static func precompute(key: [UInt8]) -> (outer: [UInt8], inner: [UInt8]) {
        let padded = blockKey(key)
        var outer = Digest()
        outer.update(padded.map { $0 ^ 0x5c })
        var inner = Digest()
        inner.update(padded.map { $0 ^ 0x36 })
        return (outer.chainingValue, inner.chainingValue)
    }

    /// HMAC from a precomputed state; nil-free: a wrong-sized state yields an empty result,
    /// which never compares equal to a real HMAC.
    public static func authenticate(_ message: [UInt8], precomputed: (outer: [UInt8], inner: [UInt8])) -> [UInt8] {
        guard var inner = Digest(chainingValue: precomputed.inner, processedLength: Digest.blockSize),
              var outer = Digest(chainingValue: precomputed.outer, processedLength: Digest.blockSize)
        else { return [] }
        inner.update(message)
        outer.update(inner.finalize())
        return outer.finalize()
    }
}

/// PBKDF2 with HMAC (RFC 8018 §5.2), for SCRAM's `Hi()` (RFC 5802 §2.2).
public enum PBKDF2<Digest: MessageDigest> {
    /// The first `Digest.outputSize` bytes of PBKDF2 (one block: all SCRAM needs).
    public static func deriveBlock(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let state = HMAC<Digest>.precompute(key: password)
        var block = HMAC<Digest>.authenticate(salt + [0, 0, 0, 1], precomputed: state)
        var result = block
        var round = 1
        while round < iterations {
            block = HMAC<Digest>.authenticate(block, precomputed: state)
            for index in result.indices { result[index] ^= block[index] }
            round += 1
        }
        return result
    }
}
