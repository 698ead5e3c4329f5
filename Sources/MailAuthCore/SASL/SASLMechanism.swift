/// The SASL mechanisms the servers offer (spec/access.md §4.8, RFC 4422).
public enum SASLMechanism: String, Sendable, CaseIterable, Hashable {
    case plain = "PLAIN"
    case login = "LOGIN"
    case cramMD5 = "CRAM-MD5"
    case cramSHA1 = "CRAM-SHA1"
    case cramSHA256 = "CRAM-SHA256"
    case scramSHA1 = "SCRAM-SHA-1"
    case scramSHA256 = "SCRAM-SHA-256"
    case external = "EXTERNAL"

    /// Case-insensitive, as clients send them.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.rawValue == name.uppercased() }) else { return nil }
        self = found
    }

    /// True when the password crosses the wire in the clear (PLAIN, LOGIN): refused on
    /// unencrypted connections unless `PlaintextPolicy` allows it.
    public var sendsPasswordInClear: Bool {
        self == .plain || self == .login
    }

    var cramAlgorithm: CramAlgorithm? {
        switch self {
        case .cramMD5: .md5
        case .cramSHA1: .sha1
        case .cramSHA256: .sha256
        default: nil
        }
    }

    var scramAlgorithm: ScramAlgorithm? {
        switch self {
        case .scramSHA1: .sha1
        case .scramSHA256: .sha256
        default: nil
        }
    }
}

/// Why an exchange ended without a login.
public enum SASLFailure: Error, Equatable, Sendable {
    /// The client sent `*` (RFC 4422 §3.5).
    case aborted
    /// The client's data was not valid for the mechanism (bad base64, missing fields, too long).
    case malformed(String)
    /// The credentials were wrong (SCRAM proof mismatch, unknown SCRAM user).
    case authenticationFailed
    /// The client asked for something we do not do (SCRAM channel binding).
    case unsupported(String)
}

/// What the protocol server does next.
public enum SASLStep: Equatable, Sendable {
    /// Send this challenge (raw bytes; the protocol base64-encodes it) and wait for a line.
    case challenge([UInt8])
    /// Check this password (PLAIN, LOGIN) through the module chain; `authorizationID` is
    /// PLAIN's optional authzid (a login may act only as itself: refuse a different one).
    case verifyPassword(authorizationID: String?, user: String, password: [UInt8])
    /// Check a CRAM answer through the module chain.
    case verifyCram(CramAlgorithm, user: String, challenge: [UInt8], response: String)
    /// Look up the user's SCRAM verifier and call `provide(_:)` with it (nil: unknown user).
    case needScramCredentials(ScramAlgorithm, user: String)
    /// EXTERNAL: accept the TLS client certificate's identity; `authorizationID` is what the
    /// client asked to act as (nil: the certificate's own identity).
    case verifyExternal(authorizationID: String?)
    /// Logged in as `user`; send `finalData` (SCRAM's server-final message) along with success.
    case success(user: String, finalData: [UInt8]?)
    /// The exchange failed.
    case failure(SASLFailure)
}
