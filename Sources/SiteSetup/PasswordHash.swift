import CCrypt

/// crypt(3) password hashes through libxcrypt's reentrant `crypt_r` (swift-stack.md "Auth"),
/// in the form userdb's `systempw` field holds.
public enum PasswordHash {
    /// The crypt method prefixes we write.
    public enum Method: String, Sendable {
        case sha512 = "$6$"
        case yescrypt = "$y$"
    }

    /// A new hash of `password` with a random salt.
    public static func make(_ password: String, method: Method = .sha512) throws(SiteSetupError) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let status = buffer.withUnsafeMutableBufferPointer { out in
            ccrypt_hash(password, method.rawValue, out.baseAddress, out.count)
        }
        guard status == 0 else { throw SiteSetupError("libcrypt could not make a \(method.rawValue) password hash") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `password` matches `hash`.
    public static func verify(_ password: String, hash: String) -> Bool {
        ccrypt_verify(password, hash) == 1
    }
}
