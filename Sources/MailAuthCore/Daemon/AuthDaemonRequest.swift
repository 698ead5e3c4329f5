/// One request on the authdaemon socket (spec/access.md §4.2). A connection carries exactly
/// one request; the daemon answers and closes.
public enum AuthDaemonRequest: Equatable, Sendable {
    /// `PRE <module> <service> <userid>`: the account without a password check. `module` is
    /// `.` for "any module", else one module's name.
    case pre(module: String, service: String, user: String)
    /// `AUTH <n>` + `<service>\n<authtype>\n<authdata>`: authenticate.
    case auth(service: String, AuthDaemonAuthData)
    /// `PASSWD <service>\t<userid>\t<oldpw>\t<newpw>`: change a password.
    case passwd(service: String, user: String, oldPassword: [UInt8], newPassword: [UInt8])
    /// `ENUMERATE`: every account of every module.
    case enumerate

    /// The request as a client writes it.
    public var encoded: [UInt8] {
        switch self {
        case .pre(let module, let service, let user):
            return Array("PRE \(module) \(service) \(user)\n".utf8)
        case .auth(let service, let data):
            let payload = Array("\(service)\n".utf8) + data.encoded
            return Array("AUTH \(payload.count)\n".utf8) + payload
        case .passwd(let service, let user, let old, let new):
            let tab = [UInt8(ascii: "\t")]
            return Array("PASSWD \(service)".utf8) + tab + Array(user.utf8) + tab + old + tab + new + [UInt8(ascii: "\n")]
        case .enumerate:
            return Array("ENUMERATE\n".utf8)
        }
    }
}

/// What an `AUTH` request proves, by authtype (spec/access.md §4.2).
public enum AuthDaemonAuthData: Equatable, Sendable {
    /// authtype `login`: `<userid>\n<password>\n`.
    case login(user: String, password: [UInt8])
    /// authtype `cram-md5`/`cram-sha1`/`cram-sha256`: `<base64 challenge>\n<base64 response>\n`,
    /// the response decoding to `<userid> <hex digest>`.
    case cram(CramAlgorithm, user: String, challenge: [UInt8], response: String)
    /// authtype `EXTERNAL`: `<userid>\n`, identity already proven (a TLS client certificate).
    case external(user: String)
    /// An authtype this daemon does not know, or data it cannot read: answered `FAIL`.
    case unsupported(type: String)

    /// The authtype line as Courier writes it.
    public var authType: String {
        switch self {
        case .login: "login"
        case .cram(let algorithm, _, _, _): algorithm.rawValue.lowercased()
        case .external: "EXTERNAL"
        case .unsupported(let type): type
        }
    }

    /// The user the data names (none for an unsupported authtype).
    public var user: String? {
        switch self {
        case .login(let user, _), .cram(_, let user, _, _), .external(let user): user
        case .unsupported: nil
        }
    }

    /// `<authtype>\n<authdata>`.
    var encoded: [UInt8] {
        let newline = UInt8(ascii: "\n")
        var out = Array(authType.utf8) + [newline]
        switch self {
        case .login(let user, let password):
            out += Array(user.utf8) + [newline] + password + [newline]
        case .cram(_, let user, let challenge, let response):
            out += Array(AuthEncoding.base64(challenge).utf8) + [newline]
            out += Array(AuthEncoding.base64(Array("\(user) \(response)".utf8)).utf8) + [newline]
        case .external(let user):
            out += Array(user.utf8) + [newline]
        case .unsupported:
            break
        }
        return out
    }
}

/// Limits of the socket protocol. Courier reads a request into a buffer of a few KB; a longer
/// one is dropped without an answer.
public enum AuthDaemonLimits {
    /// The first line of a request, without its newline.
    public static let maxLineBytes = 8192
    /// The `AUTH` payload.
    public static let maxPayloadBytes = 8192
    /// `NAME=value` lines before the request, and their bytes in all.
    public static let maxEnvironmentVariables = 32
    public static let maxEnvironmentBytes = 8192
    /// Replies a client accepts (ENUMERATE of a large site is big).
    public static let maxReplyBytes = 256 << 20
}
