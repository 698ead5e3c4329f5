/// One server side SASL exchange as a pure state machine, shared by SMTP, IMAP, POP3 and
/// webmail. The protocol server feeds it the client's lines and acts on each `SASLStep`;
/// the machine never does I/O or looks anything up itself.
///
/// Lines are the client's base64 text (RFC 4422 §4: `*` aborts; an initial response `=`
/// means "empty"). Challenges come out as raw bytes for the protocol to encode.
public struct SASLServer: Sendable {
    public let mechanism: SASLMechanism
    private let hostName: String
    private var state: State
    private let randomSource: @Sendable (Int) -> [UInt8]

    /// Longest decoded client message accepted (bytes).
    public static let maxMessageBytes = 4096

    private enum State: Sendable {
        case start
        case plainAwaitingResponse
        case loginAwaitingUser
        case loginAwaitingPassword(user: String)
        case cramAwaitingResponse(challenge: [UInt8])
        case scramAwaitingCredentials(ScramClientFirst)
        case scramAwaitingFinal(ScramClientFirst, serverFirst: String, credentials: ScramCredentials?, nonce: String)
        case externalAwaitingResponse
        case done
    }

    /// `hostName` goes into CRAM challenges; `randomSource(n)` gives n random bytes (tests
    /// pass a fixed one to reproduce RFC examples).
    public init(mechanism: SASLMechanism, hostName: String,
                randomSource: @escaping @Sendable (Int) -> [UInt8] = { PasswordMaker.randomBytes($0) }) {
        self.mechanism = mechanism
        self.hostName = hostName
        self.state = .start
        self.randomSource = randomSource
    }

    /// Starts the exchange, with the client's initial response line when it sent one
    /// (`AUTH PLAIN dGVzdA==`, IMAP SASL-IR).
    public mutating func start(initialResponse: String? = nil) -> SASLStep {
        guard case .start = state else { return fail(.malformed("exchange already started")) }
        var initial: [UInt8]?
        if let initialResponse {
            switch decode(initialResponse) {
            case .success(let bytes): initial = bytes
            case .failure(let failure): return fail(failure)
            }
        }
        switch mechanism {
        case .plain:
            if let initial { return plain(initial) }
            state = .plainAwaitingResponse
            return .challenge([])
        case .login:
            if let initial { return loginUser(initial) }
            state = .loginAwaitingUser
            return .challenge(Array("Username:".utf8))
        case .cramMD5, .cramSHA1, .cramSHA256:
            guard initial == nil else { return fail(.malformed("CRAM takes no initial response")) }
            // Courier's form: '<' 32 upper-case hex digits '@' host '>'.
            let digits = AuthEncoding.hex(randomSource(16)).uppercased()
            let challenge = Array("<\(digits)@\(hostName)>".utf8)
            state = .cramAwaitingResponse(challenge: challenge)
            return .challenge(challenge)
        case .scramSHA1, .scramSHA256:
            if let initial { return scramClientFirst(initial) }
            state = .start
            return .challenge([])
        case .external:
            if let initial { return external(initial) }
            state = .externalAwaitingResponse
            return .challenge([])
        }
    }

    /// A line from the client in answer to a challenge.
    public mutating func receive(_ line: String) -> SASLStep {
        let bytes: [UInt8]
        switch decode(line) {
        case .success(let decoded): bytes = decoded
        case .failure(let failure): return fail(failure)
        }
        switch state {
        case .start where mechanism.scramAlgorithm != nil:
            return scramClientFirst(bytes)
        case .plainAwaitingResponse:
            return plain(bytes)
        case .loginAwaitingUser:
            return loginUser(bytes)
        case .loginAwaitingPassword(let user):
            state = .done
            return .verifyPassword(authorizationID: nil, user: user, password: bytes)
        case .cramAwaitingResponse(let challenge):
            return cram(bytes, challenge: challenge)
        case .scramAwaitingFinal(let first, let serverFirst, let credentials, let nonce):
            return scramClientFinal(bytes, first: first, serverFirst: serverFirst, credentials: credentials, nonce: nonce)
        case .externalAwaitingResponse:
            return external(bytes)
        case .start, .scramAwaitingCredentials, .done:
            return fail(.malformed("unexpected client data"))
        }
    }

    /// The SCRAM verifier asked for by `.needScramCredentials` (nil when the user is unknown:
    /// the exchange goes on with made-up values and fails at the end, so a client cannot tell
    /// unknown users from wrong passwords).
    public mutating func provide(_ credentials: ScramCredentials?) -> SASLStep {
        guard case .scramAwaitingCredentials(let first) = state, let algorithm = mechanism.scramAlgorithm else {
            return fail(.malformed("no credentials were asked for"))
        }
        let usable = credentials.flatMap { ScramCredentials.iterationRange.contains($0.iterations) ? $0 : nil }
        let salt = usable?.salt ?? algorithm.hash(Array(first.user.utf8) + randomSource(16)).prefix(16).map { $0 }
        let iterations = usable?.iterations ?? ScramCredentials.defaultIterations
        let nonce = first.clientNonce + AuthEncoding.base64(randomSource(18))
        let serverFirst = "r=\(nonce),s=\(AuthEncoding.base64(salt)),i=\(iterations)"
        state = .scramAwaitingFinal(first, serverFirst: serverFirst, credentials: usable, nonce: nonce)
        return .challenge(Array(serverFirst.utf8))
    }

    // MARK: - Mechanisms

    private mutating func fail(_ failure: SASLFailure) -> SASLStep {
        state = .done
        return .failure(failure)
    }

    private func decode(_ line: String) -> Result<[UInt8], SASLFailure> {
        let trimmed = line.hasSuffix("\r") ? String(line.dropLast()) : line
        if trimmed == "*" { return .failure(.aborted) }
        if trimmed == "=" || trimmed.isEmpty { return .success([]) }
        guard trimmed.utf8.count <= Self.maxMessageBytes * 4 / 3 + 4 else { return .failure(.malformed("response too long")) }
        guard let bytes = AuthEncoding.decodeBase64(trimmed) else { return .failure(.malformed("invalid base64")) }
        return .success(bytes)
    }

    /// RFC 4616 §2: `[authzid] NUL authcid NUL passwd`.
    private mutating func plain(_ message: [UInt8]) -> SASLStep {
        state = .done
        let parts = message.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, parts[1].count <= AuthLimits.maxNameBytes,
              parts[2].count <= AuthLimits.maxPasswordBytes, !parts[2].contains(0) else {
            return .failure(.malformed("PLAIN expects authzid NUL user NUL password"))
        }
        guard let rawUser = String(validating: parts[1], as: UTF8.self),
              let rawAuthzid = String(validating: parts[0], as: UTF8.self) else {
            return .failure(.malformed("user name is not UTF-8"))
        }
        // RFC 4616 §2 recommends SASLprep for the identities (query strings). The password is
        // checked as sent: stored hashes (crypt, userdbpw) were made from the bytes as typed.
        guard let user = try? SASLprep.prepare(rawUser), !user.isEmpty,
              let authzid = rawAuthzid.isEmpty ? "" : try? SASLprep.prepare(rawAuthzid) else {
            return .failure(.malformed("user name fails SASLprep"))
        }
        return .verifyPassword(authorizationID: authzid.isEmpty ? nil : authzid, user: user, password: Array(parts[2]))
    }

    private mutating func loginUser(_ bytes: [UInt8]) -> SASLStep {
        guard !bytes.isEmpty, bytes.count <= AuthLimits.maxNameBytes, !bytes.contains(0),
              let user = String(validating: bytes, as: UTF8.self) else {
            return fail(.malformed("bad user name"))
        }
        state = .loginAwaitingPassword(user: user)
        return .challenge(Array("Password:".utf8))
    }

    /// RFC 2195 §2: `user SP hex-digest` (the last space separates: names may hold spaces).
    private mutating func cram(_ bytes: [UInt8], challenge: [UInt8]) -> SASLStep {
        state = .done
        guard let algorithm = mechanism.cramAlgorithm, let space = bytes.lastIndex(of: UInt8(ascii: " ")),
              space > 0, space - 0 <= AuthLimits.maxNameBytes,
              let user = String(validating: bytes[..<space], as: UTF8.self) else {
            return .failure(.malformed("CRAM expects 'user digest'"))
        }
        let digest = String(decoding: bytes[(space + 1)...], as: UTF8.self)
        return .verifyCram(algorithm, user: user, challenge: challenge, response: digest)
    }

    /// RFC 4422 Appendix A: the message is the authorization identity (empty: none).
    private mutating func external(_ bytes: [UInt8]) -> SASLStep {
        state = .done
        guard bytes.count <= AuthLimits.maxNameBytes, !bytes.contains(0),
              let identity = String(validating: bytes, as: UTF8.self) else {
            return .failure(.malformed("bad authorization identity"))
        }
        return .verifyExternal(authorizationID: identity.isEmpty ? nil : identity)
    }

    private mutating func scramClientFirst(_ bytes: [UInt8]) -> SASLStep {
        guard let algorithm = mechanism.scramAlgorithm else { return fail(.malformed("not SCRAM")) }
        switch ScramClientFirst.parse(bytes) {
        case .failure(let failure):
            return fail(failure)
        case .success(let first):
            state = .scramAwaitingCredentials(first)
            return .needScramCredentials(algorithm, user: first.user)
        }
    }

    /// RFC 5802 §3, §5.1: check channel binding, nonce and ClientProof; answer with the
    /// ServerSignature.
    private mutating func scramClientFinal(_ bytes: [UInt8], first: ScramClientFirst, serverFirst: String,
                                           credentials: ScramCredentials?, nonce: String) -> SASLStep {
        state = .done
        guard let algorithm = mechanism.scramAlgorithm else { return .failure(.malformed("not SCRAM")) }
        return Self.scramFinal(bytes, algorithm: algorithm, first: first, serverFirst: serverFirst,
                               credentials: credentials, nonce: nonce)
    }

    /// Checks a client-final message against the exchange so far (pure; RFC vector tests).
    static func scramFinal(_ bytes: [UInt8], algorithm: ScramAlgorithm, first: ScramClientFirst, serverFirst: String,
                           credentials: ScramCredentials?, nonce: String) -> SASLStep {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(.malformed("client-final is not UTF-8"))
        }
        // Split on scalars: ",\u{0301}" is one Character.
        let attributes = text.unicodeScalars.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard attributes.count >= 3, attributes[0].hasPrefix("c="), attributes[1].hasPrefix("r="),
              let proofAttribute = attributes.last, proofAttribute.hasPrefix("p=") else {
            return .failure(.malformed("client-final needs c=, r= and p="))
        }
        guard AuthEncoding.decodeBase64(String(attributes[0].dropFirst(2))) == Array(first.gs2Header.utf8) else {
            return .failure(.malformed("channel binding data does not match"))
        }
        guard String(attributes[1].dropFirst(2)) == nonce else { return .failure(.malformed("nonce does not match")) }
        guard let proof = AuthEncoding.decodeBase64(String(proofAttribute.dropFirst(2))), proof.count == algorithm.outputSize else {
            return .failure(.malformed("bad proof"))
        }
        guard let credentials else { return .failure(.authenticationFailed) }
        let withoutProof = String(decoding: Array(text.utf8).dropLast(proofAttribute.utf8.count + 1), as: UTF8.self)
        let authMessage = Array((first.bare + "," + serverFirst + "," + withoutProof).utf8)
        let clientSignature = algorithm.hmac(key: credentials.storedKey, authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        guard ConstantTime.equal(algorithm.hash(clientKey), credentials.storedKey) else {
            return .failure(.authenticationFailed)
        }
        let serverSignature = algorithm.hmac(key: credentials.serverKey, authMessage)
        return .success(user: first.user, finalData: Array("v=\(AuthEncoding.base64(serverSignature))".utf8))
    }
}

/// The parts of SCRAM's client-first-message (RFC 5802 §7) the server needs.
struct ScramClientFirst: Sendable {
    /// `n,,` / `y,,` / `n,a=authzid,` as sent: the client-final `c=` must echo it.
    var gs2Header: String
    /// client-first-message-bare: `n=user,r=nonce[,ext]`.
    var bare: String
    var user: String
    var clientNonce: String

    static func parse(_ bytes: [UInt8]) -> Result<ScramClientFirst, SASLFailure> {
        guard bytes.count <= SASLServer.maxMessageBytes, let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(.malformed("client-first is not UTF-8"))
        }
        let parts = text.unicodeScalars.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { return .failure(.malformed("client-first needs a GS2 header")) }
        switch parts[0] {
        case "n", "y": break
        case let flag where flag.hasPrefix("p="): return .failure(.unsupported("channel binding"))
        default: return .failure(.malformed("bad GS2 flag"))
        }
        guard parts[1].isEmpty || parts[1].hasPrefix("a=") else { return .failure(.malformed("bad authzid")) }
        let bare = String(parts[2])
        let attributes = bare.unicodeScalars.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard attributes.count >= 2, attributes[0].hasPrefix("n="), attributes[1].hasPrefix("r="),
              attributes[1].count > 2 else {
            return .failure(.malformed("client-first needs n= and r="))
        }
        if attributes.contains(where: { $0.hasPrefix("m=") }) { return .failure(.unsupported("mandatory extension")) }
        guard let escaped = unescape(attributes[0].dropFirst(2)), escaped.utf8.count <= AuthLimits.maxNameBytes else {
            return .failure(.malformed("bad user name"))
        }
        // RFC 5802 §5.1: the user name is SASLprep'd (a query string); failure or an empty
        // result ends the exchange.
        guard let user = try? SASLprep.prepare(escaped), !user.isEmpty else {
            return .failure(.malformed("user name fails SASLprep"))
        }
        let nonce = String(attributes[1].dropFirst(2))
        guard nonce.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e && $0 != UInt8(ascii: ",") }) else {
            return .failure(.malformed("bad nonce"))
        }
        return .success(ScramClientFirst(gs2Header: "\(parts[0]),\(parts[1]),", bare: bare, user: user, clientNonce: nonce))
    }

    /// RFC 5802 §5.1 saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is an error.
    static func unescape(_ text: Substring) -> String? {
        var out = String.UnicodeScalarView()
        var rest = Substring(text).unicodeScalars[...]
        while let equals = rest.firstIndex(of: "=") {
            out.append(contentsOf: rest[..<equals])
            let code = String(rest[equals...].prefix(3))
            switch code {
            case "=2C": out.append(",")
            case "=3D": out.append("=")
            default: return nil
            }
            rest = rest[rest.index(equals, offsetBy: 3)...]
        }
        out.append(contentsOf: rest)
        return String(out)
    }
}
