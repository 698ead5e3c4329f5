/// CRAM-MD5 / CRAM-SHA1 / CRAM-SHA256 (RFC 2195 and Courier's SHA variants): the client's
/// answer is the lower-case hex HMAC of the challenge keyed by the password.
public enum CramAlgorithm: String, Sendable, CaseIterable {
    case md5 = "CRAM-MD5"
    case sha1 = "CRAM-SHA1"
    case sha256 = "CRAM-SHA256"

    /// The userdb field holding the HMAC state for this algorithm (`hmac-md5pw`, …).
    public var userdbField: String {
        switch self {
        case .md5: "hmac-md5pw"
        case .sha1: "hmac-sha1pw"
        case .sha256: "hmac-sha256pw"
        }
    }

    /// The authdaemon `authtype` (`cram-md5`, …).
    public var authType: String { rawValue.lowercased() }

    public init?(authType: String) {
        guard let found = Self.allCases.first(where: { $0.authType == authType.lowercased() }) else { return nil }
        self = found
    }

    var stateSize: Int {
        switch self {
        case .md5: MD5.outputSize * 2
        case .sha1: SHA1.outputSize * 2
        case .sha256: SHA256.outputSize * 2
        }
    }

    /// The HMAC of `challenge` under a clear-text password.
    public func hmac(challenge: [UInt8], password: [UInt8]) -> [UInt8] {
        switch self {
        case .md5: HMAC<MD5>.authenticate(challenge, key: password)
        case .sha1: HMAC<SHA1>.authenticate(challenge, key: password)
        case .sha256: HMAC<SHA256>.authenticate(challenge, key: password)
        }
    }

    /// The HMAC of `challenge` from a stored `hmac-*pw` hex state; nil when the state is malformed.
    public func hmac(challenge: [UInt8], storedState: String) -> [UInt8]? {
        guard let state = AuthEncoding.decodeHex(storedState), state.count == stateSize else { return nil }
        let half = state.count / 2
        let split = (outer: Array(state[..<half]), inner: Array(state[half...]))
        switch self {
        case .md5: return HMAC<MD5>.authenticate(challenge, precomputed: split)
        case .sha1: return HMAC<SHA1>.authenticate(challenge, precomputed: split)
        case .sha256: return HMAC<SHA256>.authenticate(challenge, precomputed: split)
        }
    }

    /// True when the client's hex `response` is the HMAC computed from `expected` (constant time).
    public static func matches(response: String, expected: [UInt8]) -> Bool {
        guard let given = AuthEncoding.decodeHex(response) else { return false }
        return !expected.isEmpty && ConstantTime.equal(given, expected)
    }
}
