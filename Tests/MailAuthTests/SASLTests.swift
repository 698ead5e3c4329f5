import Testing
@testable import MailAuthCore

private func b64(_ text: String) -> String { AuthEncoding.base64(Array(text.utf8)) }

/// A random source that replays fixed bytes (to reproduce the RFC examples' server nonces).
private func fixed(_ bytes: [UInt8]) -> @Sendable (Int) -> [UInt8] {
    { count in Array(bytes.prefix(count)) + [UInt8](repeating: 0, count: max(0, count - bytes.count)) }
}

@Test func plainWithAndWithoutInitialResponse() {
    var server = SASLServer(mechanism: .plain, hostName: "mail.example.test")
    #expect(server.start(initialResponse: "AGFsaWNlAHNlY3JldA==")
            == .verifyPassword(authorizationID: nil, user: "alice", password: Array("secret".utf8)))
    var second = SASLServer(mechanism: .plain, hostName: "h")
    #expect(second.start() == .challenge([]))
    #expect(second.receive(b64("admin\0bob\0pw")) == .verifyPassword(authorizationID: "admin", user: "bob", password: Array("pw".utf8)))
}

@Test(arguments: ["*", "!!notbase64", b64("only-one-part"), b64("\0\0pw"), b64("a\0b")])
func plainRejectsBadInput(line: String) {
    var server = SASLServer(mechanism: .plain, hostName: "h")
    _ = server.start()
    guard case .failure = server.receive(line) else {
        Issue.record("accepted \(line)")
        return
    }
}

@Test func plainAbortIsAborted() {
    var server = SASLServer(mechanism: .plain, hostName: "h")
    _ = server.start()
    #expect(server.receive("*") == .failure(.aborted))
    #expect(server.receive(b64("\0a\0b")) == .failure(.malformed("unexpected client data")))
}

@Test func loginPromptsForUserThenPassword() {
    var server = SASLServer(mechanism: .login, hostName: "h")
    #expect(server.start() == .challenge(Array("Username:".utf8)))
    #expect(server.receive(b64("alice")) == .challenge(Array("Password:".utf8)))
    #expect(server.receive(b64("secret")) == .verifyPassword(authorizationID: nil, user: "alice", password: Array("secret".utf8)))
    var withInitial = SASLServer(mechanism: .login, hostName: "h")
    #expect(withInitial.start(initialResponse: b64("bob")) == .challenge(Array("Password:".utf8)))
}

@Test func cramChallengeShapeAndResponse() throws {
    var server = SASLServer(mechanism: .cramMD5, hostName: "mail.example.test", randomSource: fixed([0xab, 0x01]))
    guard case .challenge(let challenge) = server.start() else {
        Issue.record("no challenge")
        return
    }
    let text = String(decoding: challenge, as: UTF8.self)
    #expect(text == "<AB010000000000000000000000000000@mail.example.test>")
    let digest = AuthEncoding.hex(CramAlgorithm.md5.hmac(challenge: challenge, password: Array("tanstaaftanstaaf".utf8)))
    #expect(server.receive(b64("tim \(digest)")) == .verifyCram(.md5, user: "tim", challenge: challenge, response: digest))
}

@Test func cramRejectsResponseWithoutSpace() {
    var server = SASLServer(mechanism: .cramSHA256, hostName: "h")
    _ = server.start()
    #expect(server.receive(b64("nodigest")) == .failure(.malformed("CRAM expects 'user digest'")))
}

/// RFC 5802 §5 example (SCRAM-SHA-1): user "user", password "pencil".
@Test func scramSHA1RFC5802() throws {
    let salt = try #require(AuthEncoding.decodeBase64("QSXCR+Q6sek8bf92"))
    let credentials = ScramCredentials(password: Array("pencil".utf8), salt: salt, iterations: 4096, algorithm: .sha1)
    // Server nonce suffix "3rfcNHYJY1ZVvWVs7j" is base64 of these bytes.
    let suffix = try #require(AuthEncoding.decodeBase64("3rfcNHYJY1ZVvWVs7j=="))
    var server = SASLServer(mechanism: .scramSHA1, hostName: "h", randomSource: fixed(suffix))
    #expect(server.start(initialResponse: b64("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")) == .needScramCredentials(.sha1, user: "user"))
    guard case .challenge(let first) = server.provide(credentials) else {
        Issue.record("no server-first")
        return
    }
    #expect(String(decoding: first, as: UTF8.self).hasPrefix("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7"))
    #expect(String(decoding: first, as: UTF8.self).hasSuffix(",s=QSXCR+Q6sek8bf92,i=4096"))
}

/// RFC 7677 §3 example (SCRAM-SHA-256), driven with the RFC's exact server-first message.
@Test func scramSHA256RFC7677() throws {
    let salt = try #require(AuthEncoding.decodeBase64("W22ZaJ0SNY7soEsUEjb6gQ=="))
    let credentials = ScramCredentials(password: Array("pencil".utf8), salt: salt, iterations: 4096, algorithm: .sha256)
    let first = try ScramClientFirst.parse(Array("n,,n=user,r=rOprNGfwEbeRWgbNEkqO".utf8)).get()
    let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    let step = SASLServer.scramFinal(
        Array("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=".utf8),
        algorithm: .sha256, first: first, serverFirst: serverFirst, credentials: credentials,
        nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    #expect(step == .success(user: "user", finalData: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)))
    let wrong = SASLServer.scramFinal(
        Array("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=".utf8),
        algorithm: .sha256, first: first, serverFirst: serverFirst, credentials: credentials,
        nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    #expect(wrong == .failure(.authenticationFailed))
}

/// RFC 5802 §5 complete: the server-final message for the RFC's client proof.
@Test func scramSHA1RFC5802Final() throws {
    let salt = try #require(AuthEncoding.decodeBase64("QSXCR+Q6sek8bf92"))
    let credentials = ScramCredentials(password: Array("pencil".utf8), salt: salt, iterations: 4096, algorithm: .sha1)
    let first = try ScramClientFirst.parse(Array("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL".utf8)).get()
    let nonce = "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"
    let step = SASLServer.scramFinal(
        Array("c=biws,r=\(nonce),p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=".utf8), algorithm: .sha1, first: first,
        serverFirst: "r=\(nonce),s=QSXCR+Q6sek8bf92,i=4096", credentials: credentials, nonce: nonce)
    #expect(step == .success(user: "user", finalData: Array("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=".utf8)))
}

/// A whole exchange against our own client computation, and an unknown user.
@Test func scramRoundTrip() throws {
    let credentials = ScramCredentials(password: Array("pw".utf8), salt: Array("salty".utf8), iterations: 64, algorithm: .sha256)
    var server = SASLServer(mechanism: .scramSHA256, hostName: "h")
    #expect(server.start() == .challenge([]))
    #expect(server.receive(b64("n,,n=a=3Db=2Cc,r=abc")) == .needScramCredentials(.sha256, user: "a=b,c"))
    guard case .challenge(let firstBytes) = server.provide(credentials) else { throw SASLFailure.aborted }
    let serverFirst = String(decoding: firstBytes, as: UTF8.self)
    let nonce = String(serverFirst.split(separator: ",")[0].dropFirst(2))
    let withoutProof = "c=biws,r=\(nonce)"
    let authMessage = Array(("n=a=3Db=2Cc,r=abc," + serverFirst + "," + withoutProof).utf8)
    let salted = PBKDF2<SHA256>.deriveBlock(password: Array("pw".utf8), salt: Array("salty".utf8), iterations: 64)
    let clientKey = HMAC<SHA256>.authenticate(Array("Client Key".utf8), key: salted)
    let signature = HMAC<SHA256>.authenticate(authMessage, key: SHA256.hash(clientKey))
    let proof = zip(clientKey, signature).map { $0 ^ $1 }
    guard case .success(let user, let final?) = server.receive(b64(withoutProof + ",p=" + AuthEncoding.base64(proof))) else {
        Issue.record("not accepted")
        return
    }
    #expect(user == "a=b,c")
    let serverKey = HMAC<SHA256>.authenticate(Array("Server Key".utf8), key: salted)
    #expect(String(decoding: final, as: UTF8.self) == "v=" + AuthEncoding.base64(HMAC<SHA256>.authenticate(authMessage, key: serverKey)))

    var unknown = SASLServer(mechanism: .scramSHA256, hostName: "h")
    _ = unknown.start(initialResponse: b64("n,,n=ghost,r=xyz"))
    guard case .challenge(let fake) = unknown.provide(nil) else { throw SASLFailure.aborted }
    let fakeNonce = String(String(decoding: fake, as: UTF8.self).split(separator: ",")[0].dropFirst(2))
    #expect(unknown.receive(b64("c=biws,r=\(fakeNonce),p=" + AuthEncoding.base64([UInt8](repeating: 1, count: 32))))
            == .failure(.authenticationFailed))
}

@Test(arguments: ["p=tls-unique,,n=user,r=abc", "n,,n=user", "x,,n=user,r=a", "n,,m=ext,n=user,r=a", "n,,n=us=er,r=a", "n,,n=,r=a"])
func scramRejectsBadClientFirst(message: String) {
    var server = SASLServer(mechanism: .scramSHA1, hostName: "h")
    guard case .failure = server.start(initialResponse: b64(message)) else {
        Issue.record("accepted \(message)")
        return
    }
}

@Test func scramStoredFormRoundTrips() throws {
    let credentials = ScramCredentials(password: Array("pencil".utf8), salt: Array("salt".utf8), iterations: 4096, algorithm: .sha256)
    let stored = credentials.stored(.sha256)
    #expect(stored.hasPrefix("SCRAM-SHA-256$4096:c2FsdA==$"))
    #expect(ScramCredentials(stored: stored, algorithm: .sha256) == credentials)
    #expect(ScramCredentials(stored: stored, algorithm: .sha1) == nil)
    #expect(ScramCredentials(stored: "SCRAM-SHA-256$0:c2FsdA==$AA==:AA==", algorithm: .sha256) == nil)
}

@Test func externalPassesAuthorizationIdentity() {
    var server = SASLServer(mechanism: .external, hostName: "h")
    #expect(server.start(initialResponse: "=") == .verifyExternal(authorizationID: nil))
    var other = SASLServer(mechanism: .external, hostName: "h")
    #expect(other.start() == .challenge([]))
    #expect(other.receive(b64("alice@example.test")) == .verifyExternal(authorizationID: "alice@example.test"))
}

@Test func mechanismNames() {
    #expect(SASLMechanism(name: "cram-md5") == .cramMD5)
    #expect(SASLMechanism(name: "scram-sha-256") == .scramSHA256)
    #expect(SASLMechanism(name: "GSSAPI") == nil)
    #expect(SASLMechanism.plain.sendsPasswordInClear && !SASLMechanism.cramMD5.sendsPasswordInClear)
}
