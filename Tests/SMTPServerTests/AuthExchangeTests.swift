import MailAuth
@testable import MailAuthCore
import SMTP
import Testing
@testable import SMTPServer

/// One account, `alice@example.test`, with a clear password (so every mechanism works).
private struct MemoryModule: AuthModule {
    let name = "memory"
    func lookup(user: String, service: String) async -> ModuleLookup {
        guard user == "alice@example.test" else { return .notFound }
        return .found(StoredAccount(account: AuthAccount(address: user, home: "/home/alice"), clearPassword: "secret"))
    }
    func enumerate() async -> [AuthAccount]? { nil }
}

private let authenticator = SMTPAuthenticator(chain: AuthChain(modules: [MemoryModule()]), throttle: LoginThrottle())

private func b64(_ text: String) -> String { AuthEncoding.base64(Array(text.utf8)) }

/// Runs an exchange to its end, answering lookups through the memory chain and challenges
/// with `answer(challengeBytes)`.
private func run(_ mechanism: SASLMechanism, initial: String?, external: String? = nil,
                 answer: (([UInt8]) -> String)? = nil) async -> SMTPAuthExchange.Step {
    var exchange = SMTPAuthExchange(mechanism: mechanism, hostName: "mx.example.test", defaultDomain: "@example.test",
                                    externalIdentity: external)
    var step = exchange.start(initialResponse: initial)
    for _ in 0..<10 {
        switch step {
        case .challenge(let reply):
            #expect(reply.code == 334)
            let bytes = AuthEncoding.decodeBase64(reply.lines[0]) ?? []
            step = exchange.receive(answer?(bytes) ?? "*")
        case .verify(let credentials):
            let user: String
            switch credentials { case .password(let u, _), .cram(_, let u, _, _): user = u }
            step = exchange.verified(await authenticator.verify(credentials, clientIP: "127.0.0.1", user: user))
        case .lookupExternal(let user):
            step = exchange.verified(await authenticator.lookup(user: user))
        case .scramLookup(let algorithm, let user):
            step = exchange.provide(await authenticator.scramCredentials(user: user, algorithm: algorithm, clientIP: "127.0.0.1"))
        case .succeeded, .failed:
            return step
        }
    }
    return step
}

private func user(_ step: SMTPAuthExchange.Step) -> String? {
    if case .succeeded(let user) = step { return user }
    return nil
}

private func failure(_ step: SMTPAuthExchange.Step) -> Int? {
    if case .failed(let reply, _, _) = step { return reply.code }
    return nil
}

struct AuthExchangeTests {
    @Test func plainWithInitialResponseAndDefaultDomain() async {
        #expect(user(await run(.plain, initial: b64("\0alice\0secret"))) == "alice@example.test")
        #expect(user(await run(.plain, initial: b64("\0alice@example.test\0secret"))) == "alice@example.test")
        #expect(failure(await run(.plain, initial: b64("\0alice\0wrong"))) == 535)
        #expect(failure(await run(.plain, initial: b64("\0nobody\0secret"))) == 535)
    }

    @Test func externalUsesTheCertificateIdentity() async {
        #expect(user(await run(.external, initial: "=", external: "alice@example.test")) == "alice@example.test")
        #expect(user(await run(.external, initial: b64("alice@example.test"), external: "alice@example.test")) == "alice@example.test")
        #expect(failure(await run(.external, initial: b64("bob@example.test"), external: "alice@example.test")) == 535)
        #expect(failure(await run(.external, initial: "=", external: "nobody@example.test")) == 535)
        #expect(failure(await run(.external, initial: "=", external: nil)) == 535)
    }

    @Test func plainWithoutInitialResponse() async {
        let step = await run(.plain, initial: nil) { _ in b64("\0alice\0secret") }
        #expect(user(step) == "alice@example.test")
    }

    @Test func plainAuthorizationIdentityMustBeTheUser() async {
        #expect(user(await run(.plain, initial: b64("alice\0alice\0secret"))) == "alice@example.test")
        #expect(failure(await run(.plain, initial: b64("bob@example.test\0alice\0secret"))) == 535)
    }

    @Test func loginAsksForUserThenPassword() async {
        var prompts: [String] = []
        let step = await run(.login, initial: nil) { challenge in
            prompts.append(String(decoding: challenge, as: UTF8.self))
            return prompts.count == 1 ? b64("alice") : b64("secret")
        }
        #expect(prompts == ["Username:", "Password:"])
        #expect(user(step) == "alice@example.test")
    }

    @Test func cramMD5() async {
        let step = await run(.cramMD5, initial: nil) { challenge in
            #expect(challenge.first == UInt8(ascii: "<") && String(decoding: challenge, as: UTF8.self).hasSuffix("@mx.example.test>"))
            let digest = CramAlgorithm.md5.hmac(challenge: challenge, password: Array("secret".utf8))
            return b64("alice " + AuthEncoding.hex(digest))
        }
        #expect(user(step) == "alice@example.test")
        let bad = await run(.cramMD5, initial: nil) { _ in b64("alice 00112233445566778899aabbccddeeff") }
        #expect(failure(bad) == 535)
    }

    @Test func scramSHA256WithServerFinalAcknowledged() async {
        let clientNonce = "rOprNGfwEbeRWgbNEkqO"
        let clientFirstBare = "n=alice,r=\(clientNonce)"
        var serverFirst = ""
        var sentFinal = false
        let step = await run(.scramSHA256, initial: b64("n,," + clientFirstBare)) { challenge in
            let text = String(decoding: challenge, as: UTF8.self)
            if sentFinal {
                #expect(text.hasPrefix("v="))
                return ""   // RFC 4954 §4: the empty response to the last challenge
            }
            serverFirst = text
            var fields: [Character: String] = [:]
            for part in text.split(separator: ",") { fields[part.first!] = String(part.dropFirst(2)) }
            let salt = AuthEncoding.decodeBase64(fields["s"]!)!
            let iterations = Int(fields["i"]!)!
            let algorithm = ScramAlgorithm.sha256
            let salted = algorithm.saltedPassword(Array("secret".utf8), salt: salt, iterations: iterations)
            let clientKey = algorithm.hmac(key: salted, Array("Client Key".utf8))
            let storedKey = algorithm.hash(clientKey)
            let withoutProof = "c=\(b64("n,,")),r=\(fields["r"]!)"
            let authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof
            let signature = algorithm.hmac(key: storedKey, Array(authMessage.utf8))
            let proof = zip(clientKey, signature).map { $0 ^ $1 }
            sentFinal = true
            return b64(withoutProof + ",p=" + AuthEncoding.base64(proof))
        }
        #expect(user(step) == "alice@example.test")
    }

    @Test func cancelAndGarbage() async {
        #expect(failure(await run(.login, initial: nil) { _ in "*" }) == 501)
        #expect(failure(await run(.plain, initial: "!!!not base64")) == 501)
    }

    @Test func plaintextMechanismsNeedTLSOrLoopback() {
        let remote = SMTPAuthMechanisms.offered(plain: "PLAIN LOGIN CRAM-MD5", tls: "", clientIP: "192.0.2.7")
        #expect(remote.plain == ["CRAM-MD5"])
        #expect(remote.tls == ["PLAIN", "LOGIN", "CRAM-MD5"])
        let local = SMTPAuthMechanisms.offered(plain: "PLAIN LOGIN", tls: "PLAIN LOGIN SCRAM-SHA-256", clientIP: "127.0.0.1")
        #expect(local.plain == ["PLAIN", "LOGIN"])
        #expect(local.tls == ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
        #expect(SMTPAuthMechanisms.offered(plain: "BOGUS EXTERNAL", tls: nil, clientIP: "::1").plain == [])
    }

    @Test func receivedHeaderNamesTheLogin() {
        let header = ReceivedHeader.make(helo: "laptop", clientIP: "127.0.0.1", me: "mx.example.test", extended: true,
                                         tls: true, authenticatedUser: "alice@example.test", mechanism: "PLAIN",
                                         smtputf8: false, date: "Thu, 1 Jan 2026 00:00:00 +0000")
        #expect(header.contains("(AUTH: PLAIN alice@example.test, TLS)"))
        #expect(header.contains("with ESMTPSA;"))
    }
}
