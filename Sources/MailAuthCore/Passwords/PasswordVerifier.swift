import CCrypt

/// Checks a password against a stored field in any `PasswordScheme` format. Digest forms are
/// compared in constant time here; crypt(3) forms are compared in constant time in the C shim.
public enum PasswordVerifier {
    /// True when `password` matches `stored`. Over-long passwords, passwords with a NUL byte
    /// and unusable stored values never match.
    public static func verify(_ password: [UInt8], against stored: String) -> Bool {
        guard password.count <= AuthLimits.maxPasswordBytes else { return false }
        switch PasswordScheme.parse(stored) {
        case .unusable:
            return false
        case .crypt(let hash):
            guard !password.contains(0) else { return false }
            var phrase = password.map { CChar(bitPattern: $0) }
            phrase.append(0)
            return phrase.withUnsafeBufferPointer { ccrypt_verify($0.baseAddress, hash) == 1 }
        case .digest(let kind, let digest, let salt):
            return ConstantTime.equal(kind.hash(password + salt), digest)
        }
    }

    /// True when checking a password against `stored` is one digest (`{SSHA}`, `{SHA256}`, …)
    /// or nothing at all, as opposed to a crypt(3) hash that is made slow on purpose.
    public static func isCheap(_ stored: String) -> Bool {
        if case .crypt = PasswordScheme.parse(stored) { return false }
        return true
    }

    public static func verify(_ password: String, against stored: String) -> Bool {
        verify(Array(password.utf8), against: stored)
    }
}
