/// The SCRAM hash functions (RFC 5802 SCRAM-SHA-1, RFC 7677 SCRAM-SHA-256).
public enum ScramAlgorithm: String, Sendable, CaseIterable, Hashable {
    case sha1 = "SCRAM-SHA-1"
    case sha256 = "SCRAM-SHA-256"

    /// The userdb field holding this verifier (`scram-sha-1pw`, `scram-sha-256pw`).
    public var userdbField: String {
        switch self {
        case .sha1: "scram-sha-1pw"
        case .sha256: "scram-sha-256pw"
        }
    }

    var outputSize: Int {
        switch self {
        case .sha1: SHA1.outputSize
        case .sha256: SHA256.outputSize
        }
    }

    func hash(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: SHA1.hash(bytes)
        case .sha256: SHA256.hash(bytes)
        }
    }

    func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: HMAC<SHA1>.authenticate(message, key: key)
        case .sha256: HMAC<SHA256>.authenticate(message, key: key)
        }
    }

    /// RFC 5802 §2.2 Hi(): PBKDF2 with this hash's HMAC, one block.
    func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        switch self {
        case .sha1: PBKDF2<SHA1>.deriveBlock(password: password, salt: salt, iterations: iterations)
        case .sha256: PBKDF2<SHA256>.deriveBlock(password: password, salt: salt, iterations: iterations)
        }
    }
}

/// What a server stores to check SCRAM logins without the password (RFC 5802 §3):
/// salt, iteration count, StoredKey = H(ClientKey), ServerKey.
public struct ScramCredentials: Equatable, Sendable {
    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    /// Fewest and most iterations we accept from storage (4096 is RFC 7677's minimum advice).
    public static let iterationRange = 1...1_000_000
    public static let defaultIterations = 4096

    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// Derives the verifier from a clear password (RFC 5802 §3): SaltedPassword is
    /// Hi(Normalize(password)), Normalize being SASLprep of a query string (§2.2). A password
    /// that SASLprep refuses (control characters, bad bidi text, not UTF-8) is used as given:
    /// a conforming client cannot send it, so it simply never matches.
    public init(password: [UInt8], salt: [UInt8], iterations: Int, algorithm: ScramAlgorithm) {
        let normalized = SASLprep.prepare(bytes: password) ?? password
        let salted = algorithm.saltedPassword(normalized, salt: salt, iterations: iterations)
        let clientKey = algorithm.hmac(key: salted, Array("Client Key".utf8))
        self.init(salt: salt, iterations: iterations, storedKey: algorithm.hash(clientKey),
                  serverKey: algorithm.hmac(key: salted, Array("Server Key".utf8)))
    }

    /// The stored form, as RFC 5803 writes it: `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`
    /// (base64 values).
    public func stored(_ algorithm: ScramAlgorithm) -> String {
        "\(algorithm.rawValue)$\(iterations):\(AuthEncoding.base64(salt))$\(AuthEncoding.base64(storedKey)):\(AuthEncoding.base64(serverKey))"
    }

    /// Parses the RFC 5803 form; nil when malformed or for another algorithm.
    public init?(stored text: String, algorithm: ScramAlgorithm) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].uppercased() == algorithm.rawValue else { return nil }
        let first = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        let second = parts[2].split(separator: ":", omittingEmptySubsequences: false)
        guard first.count == 2, second.count == 2, let iterations = Int(first[0]),
              Self.iterationRange.contains(iterations),
              let salt = AuthEncoding.decodeBase64(String(first[1])), !salt.isEmpty,
              let storedKey = AuthEncoding.decodeBase64(String(second[0])), storedKey.count == algorithm.outputSize,
              let serverKey = AuthEncoding.decodeBase64(String(second[1])), serverKey.count == algorithm.outputSize
        else { return nil }
        self.init(salt: salt, iterations: iterations, storedKey: storedKey, serverKey: serverKey)
    }
}
