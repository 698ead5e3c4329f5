import CCrypt

/// Makes stored password values (the `userdbpw` methods and more).
public enum PasswordMaker {
    /// A way to store a password.
    public enum Method: String, Sendable, CaseIterable {
        /// Traditional DES crypt (13 characters; only the first 8 password bytes count).
        /// What Courier's `userdbpw` makes without options.
        case des
        case md5crypt = "$1$"
        case sha256crypt = "$5$"
        case sha512crypt = "$6$"
        case yescrypt = "$y$"
        case ldapMD5 = "{MD5}"
        case ldapSHA1 = "{SHA}"
        case ldapSSHA1 = "{SSHA}"
        case ldapSHA256 = "{SHA256}"
        case ldapSHA512 = "{SHA512}"
        /// Courier's HMAC intermediate states for CRAM (`hmac-md5pw` …): hex, outer then inner.
        case hmacMD5 = "hmac-md5"
        case hmacSHA1 = "hmac-sha1"
        case hmacSHA256 = "hmac-sha256"

        /// The crypt_gensalt prefix of the crypt(3) methods.
        var cryptPrefix: String? {
            switch self {
            case .des: ""
            case .md5crypt, .sha256crypt, .sha512crypt, .yescrypt: rawValue
            default: nil
            }
        }
    }

    /// Why a password could not be stored.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLong
        case containsNul
        case cryptFailed(String)

        public var description: String {
            switch self {
            case .tooLong: "password longer than \(AuthLimits.maxPasswordBytes) bytes"
            case .containsNul: "password contains a NUL byte"
            case .cryptFailed(let method): "libcrypt could not make a \(method) hash"
            }
        }
    }

    /// The stored form of `password` by `method`, with a fresh random salt where it has one.
    public static func make(_ password: [UInt8], method: Method) throws(Failure) -> String {
        guard password.count <= AuthLimits.maxPasswordBytes else { throw .tooLong }
        if let prefix = method.cryptPrefix {
            guard !password.contains(0) else { throw .containsNul }
            var phrase = password.map { CChar(bitPattern: $0) }
            phrase.append(0)
            var buffer = [CChar](repeating: 0, count: 512)
            let status = phrase.withUnsafeBufferPointer { input in
                buffer.withUnsafeMutableBufferPointer { out in
                    ccrypt_hash(input.baseAddress, prefix, out.baseAddress, out.count)
                }
            }
            guard status == 0 else { throw .cryptFailed(method == .des ? "DES" : prefix) }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        switch method {
        case .ldapMD5: return "{MD5}" + AuthEncoding.base64(MD5.hash(password))
        case .ldapSHA1: return "{SHA}" + AuthEncoding.base64(SHA1.hash(password))
        case .ldapSHA256: return "{SHA256}" + AuthEncoding.base64(SHA256.hash(password))
        case .ldapSHA512: return "{SHA512}" + AuthEncoding.base64(SHA512.hash(password))
        case .ldapSSHA1:
            let salt = randomBytes(4)
            return "{SSHA}" + AuthEncoding.base64(SHA1.hash(password + salt) + salt)
        case .hmacMD5: return hmacState(HMAC<MD5>.precompute(key: password))
        case .hmacSHA1: return hmacState(HMAC<SHA1>.precompute(key: password))
        case .hmacSHA256: return hmacState(HMAC<SHA256>.precompute(key: password))
        default: throw .cryptFailed(method.rawValue)
        }
    }

    public static func make(_ password: String, method: Method) throws(Failure) -> String {
        try make(Array(password.utf8), method: method)
    }

    private static func hmacState(_ state: (outer: [UInt8], inner: [UInt8])) -> String {
        AuthEncoding.hex(state.outer + state.inner)
    }

    /// Bytes from the system's secure generator.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
