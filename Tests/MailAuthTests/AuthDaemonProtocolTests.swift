#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import MailConfig
import Testing
@testable import MailAuth
@testable import MailAuthCore

private func decode(_ text: String) -> AuthDaemonRequestDecoder.Outcome {
    AuthDaemonRequestDecoder.decode(Array(text.utf8))
}

@Test func decodesCourierRequests() {
    #expect(decode("PRE . imap alice\n") == .request(.pre(module: ".", service: "imap", user: "alice"), environment: [], consumed: 17))
    // The user id is the rest of the line, spaces included; runs of spaces separate the words.
    #expect(decode("PRE authuserdb  pop3 a b\n") == .request(.pre(module: "authuserdb", service: "pop3", user: "a b"), environment: [], consumed: 25))
    // The observed request of spec §4.2, with the variable line Courier's library sends first.
    let auth = "TCPREMOTEIP=::1\nAUTH 24\nimap\nlogin\nalice\nsecret\n"
    #expect(decode(auth) == .request(.auth(service: "imap", .login(user: "alice", password: Array("secret".utf8))),
                                     environment: [AuthDaemonVariable(name: "TCPREMOTEIP", value: "::1")], consumed: auth.utf8.count))
    #expect(decode("PASSWD imap\talice\told pw\tnew\n") == .request(
        .passwd(service: "imap", user: "alice", oldPassword: Array("old pw".utf8), newPassword: Array("new".utf8)), environment: [], consumed: 29))
    #expect(decode("ENUMERATE\n") == .request(.enumerate, environment: [], consumed: 10))
}

@Test func decodesCramAndExternalAuthData() {
    let challenge = "<1896.697170952@postoffice.example.net>"
    let response = "tim b913a602c7eda7a495b4e6e7334d3890"
    let payload = "imap\ncram-md5\n\(AuthEncoding.base64(Array(challenge.utf8)))\n\(AuthEncoding.base64(Array(response.utf8)))\n"
    #expect(decode("AUTH \(payload.utf8.count)\n\(payload)") == .request(
        .auth(service: "imap", .cram(.md5, user: "tim", challenge: Array(challenge.utf8), response: "b913a602c7eda7a495b4e6e7334d3890")),
        environment: [], consumed: 5 + String(payload.utf8.count).utf8.count + 1 + payload.utf8.count))
    guard case .request(.auth(_, .external(let user)), _, _) = decode("AUTH 19\nimap\nEXTERNAL\nalice\n") else {
        Issue.record("EXTERNAL not decoded")
        return
    }
    #expect(user == "alice")
    // Unknown authtypes and undecodable CRAM data are requests answered FAIL, not dropped.
    guard case .request(.auth(_, .unsupported("digest-md5")), _, _) = decode("AUTH 19\nimap\ndigest-md5\nxx\n") else {
        Issue.record("unknown authtype")
        return
    }
    guard case .request(.auth(_, .unsupported), _, _) = decode("AUTH 19\nimap\ncram-md5\n!!\n!\n") else {
        Issue.record("bad base64")
        return
    }
}

@Test func partialAndMalformedRequests() {
    #expect(decode("") == .needMore)
    #expect(decode("PRE . imap al") == .needMore)
    #expect(decode("TCPREMOTEIP=::1\n") == .needMore)
    #expect(decode("AUTH 24\nimap\nlogin\nalice\n") == .needMore)
    for bad in ["HELLO\n", "PRE .\n", "PRE . imap\n", "AUTH x\n", "AUTH 0\n", "AUTH 99999\n", "AUTH -1\n",
                "PASSWD imap\talice\n", "ENUMERATE now\n", "AUTH 3\nimap", "AUTH 5\nimap\n"] {
        guard case .malformed = decode(bad) else {
            Issue.record("accepted: \(bad.debugDescription)")
            continue
        }
    }
    // Overlong lines and endless variables end the connection instead of growing a buffer.
    guard case .malformed = AuthDaemonRequestDecoder.decode([UInt8](repeating: 0x41, count: AuthDaemonLimits.maxLineBytes + 10)) else {
        Issue.record("long line")
        return
    }
    let variables = String(repeating: "A=b\n", count: AuthDaemonLimits.maxEnvironmentVariables + 1) + "ENUMERATE\n"
    guard case .malformed = decode(variables) else {
        Issue.record("too many variables")
        return
    }
}

@Test func requestsRoundTripThroughTheEncoder() {
    let requests: [AuthDaemonRequest] = [
        .pre(module: ".", service: "courier", user: "bob@example.com"),
        .auth(service: "imap", .login(user: "alice", password: Array("p w=d".utf8))),
        .auth(service: "pop3", .cram(.sha256, user: "tim", challenge: Array("<x@y>".utf8), response: "00ff")),
        .auth(service: "imap", .external(user: "carol")),
        .passwd(service: "webmail", user: "alice", oldPassword: Array("a".utf8), newPassword: Array("b".utf8)),
        .enumerate,
    ]
    for request in requests {
        let bytes = request.encoded
        #expect(AuthDaemonRequestDecoder.decode(bytes) == .request(request, environment: [], consumed: bytes.count))
        // Any strict prefix is incomplete or (for a cut inside the first line's word) not a request, never another request.
        for cut in 0..<bytes.count {
            if case .request = AuthDaemonRequestDecoder.decode(bytes[0..<cut]) { Issue.record("prefix \(cut) of \(request) decoded") }
        }
    }
}

@Test func repliesEncodeAndDecode() {
    let account = AuthAccount(address: "alice", uid: "65534", gid: "65534", home: "/srv/mail/alice",
                              maildir: "/srv/mail/alice/Maildir", quota: "1000000S,100C",
                              options: AccountOptions(parsing: "group=staff,disablewebmail=1"),
                              cryptedPassword: "$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.", clearPassword: "secret")
    let bytes = account.daemonAccount.encoded
    #expect(String(decoding: bytes, as: UTF8.self) == """
        UID=65534
        GID=65534
        HOME=/srv/mail/alice
        ADDRESS=alice
        MAILDIR=/srv/mail/alice/Maildir
        QUOTA=1000000S,100C
        PASSWD=$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.
        PASSWD2=secret
        OPTIONS=group=staff,disablewebmail=1
        .

        """)
    guard case .account(let decoded) = AuthDaemonReply.decodeAccount(bytes) else {
        Issue.record("not decoded")
        return
    }
    #expect(decoded == account.daemonAccount)
    #expect(decoded.options == "group=staff,disablewebmail=1")
    #expect(decoded.effectiveMaildir == "/srv/mail/alice/Maildir")
    #expect(AuthDaemonReply.decodeAccount(AuthDaemonReply.fail) == .fail)
    #expect(AuthDaemonReply.decodeAccount(bytes.dropLast(2)) == .incomplete)
    #expect(AuthDaemonReply.decodeAccount([]) == .incomplete)
    #expect(AuthDaemonReply.decodeStatus(AuthDaemonReply.ok) == true)
    #expect(AuthDaemonReply.decodeStatus(AuthDaemonReply.fail) == false)
    #expect(AuthDaemonReply.decodeStatus([]) == nil)
    // A newline inside a value cannot start a forged key.
    let forged = AuthDaemonAccount(fields: [("HOME", "/h\nUID=0")]).encoded
    #expect(String(decoding: forged, as: UTF8.self) == "HOME=/h UID=0\n.\n")

    let listed = AuthDaemonReply.enumeration([
        ("authuserdb", [AuthDaemonEnumeratedAccount(name: "bob", uid: "65534", gid: "65534", home: "/srv/mail/bob", maildir: "", options: "disableimap=1")]),
        ("authpgsql", []),
    ])
    #expect(String(decoding: listed, as: UTF8.self) == "# authuserdb\n\nbob\t65534\t65534\t/srv/mail/bob\t\tdisableimap=1\n# authpgsql\n\n.\n")
    #expect(AuthDaemonReply.decodeEnumeration(listed)?.map(\.name) == ["bob"])
    #expect(AuthDaemonReply.decodeEnumeration(listed.dropLast(2)) == nil)
    // "\r\n" is one Character: a field holding it must not start a line of its own.
    let sneaky = AuthDaemonReply.enumeration([("m", [AuthDaemonEnumeratedAccount(name: "a\r\nroot\t0", uid: "1", gid: "1", home: "/h", maildir: "", options: "")])])
    #expect(AuthDaemonReply.decodeEnumeration(sneaky)?.map(\.name) == ["a\r root 0"])
    // A carriage return in an account value survives (only a newline would end the line).
    #expect(AuthDaemonReply.decodeAccount(AuthDaemonAccount(fields: [("NAME", "a\rb")]).encoded) == .account(AuthDaemonAccount(fields: [("NAME", "a\rb")])))
}

/// A site with one userdb account, compiled.
private func userdbSite() throws -> (root: ConfigRoot, chain: AuthChain) {
    let directory = temporaryDirectory()
    _ = mkdir(directory + "/etc", 0o755)
    let hash = try PasswordMaker.make(Array("secret".utf8), method: .sha512crypt)
    let hmac = try PasswordMaker.make(Array("secret".utf8), method: .hmacMD5)
    writeFile(directory + "/etc/userdb", "alice\tuid=1000|gid=1000|home=/srv/alice|options=disableimap=1|systempw=\(hash)|hmac-md5pw=\(hmac)\n")
    let root = ConfigRoot(path: directory)
    _ = try UserdbCompiler.make(UserdbPaths(source: root.etc("userdb")))
    return (root, AuthChain(modules: [UserdbModule(source: root.etc("userdb"))], defaultOptions: AccountOptions(parsing: "disableshared=1")))
}

@Test func responderAnswersFromTheChain() async throws {
    let (_, chain) = try userdbSite()
    let responder = AuthDaemonResponder(chain: chain)
    func account(_ reply: [UInt8]?) -> AuthDaemonAccount? {
        guard let reply, case .account(let account) = AuthDaemonReply.decodeAccount(reply) else { return nil }
        return account
    }
    let pre = account(await responder.answer(.pre(module: ".", service: "imap", user: "alice")))
    #expect(pre?.home == "/srv/alice")
    #expect(pre?.options == "disableimap=1,disableshared=1")
    #expect(pre?.clearPassword == nil)
    #expect(account(await responder.answer(.pre(module: "authuserdb", service: "imap", user: "alice"))) != nil)
    #expect(await responder.answer(.pre(module: "authpgsql", service: "imap", user: "alice")) == AuthDaemonReply.fail)
    #expect(await responder.answer(.pre(module: ".", service: "imap", user: "nobody")) == AuthDaemonReply.fail)

    let login = account(await responder.answer(.auth(service: "imap", .login(user: "alice", password: Array("secret".utf8)))))
    #expect(login?.clearPassword == "secret")
    #expect(await responder.answer(.auth(service: "imap", .login(user: "alice", password: Array("wrong".utf8)))) == AuthDaemonReply.fail)

    let challenge = Array("<123.456@example.test>".utf8)
    let digest = AuthEncoding.hex(CramAlgorithm.md5.hmac(challenge: challenge, password: Array("secret".utf8)))
    let cram = account(await responder.answer(.auth(service: "imap", .cram(.md5, user: "alice", challenge: challenge, response: digest))))
    #expect(cram?.address == "alice")
    #expect(cram?.cryptedPassword == nil)   // CRAM replies carry no PASSWD (§4.2)
    #expect(await responder.answer(.auth(service: "imap", .cram(.md5, user: "alice", challenge: challenge, response: "00"))) == AuthDaemonReply.fail)
    #expect(await responder.answer(.auth(service: "imap", .unsupported(type: "gssapi"))) == AuthDaemonReply.fail)

    let listed = await responder.answer(.enumerate).flatMap { AuthDaemonReply.decodeEnumeration($0) }
    #expect(listed?.map(\.name) == ["alice"])
    #expect(listed?.first?.options == "disableimap=1")
}

@Test func passwdChangesTheUserdbPassword() async throws {
    let (_, chain) = try userdbSite()
    let responder = AuthDaemonResponder(chain: chain)
    #expect(await responder.answer(.passwd(service: "imap", user: "alice", oldPassword: Array("bad".utf8), newPassword: Array("new".utf8))) == AuthDaemonReply.fail)
    #expect(await responder.answer(.passwd(service: "imap", user: "alice", oldPassword: Array("secret".utf8), newPassword: Array("new".utf8))) == AuthDaemonReply.ok)
    #expect(await responder.answer(.auth(service: "imap", .login(user: "alice", password: Array("secret".utf8)))) == AuthDaemonReply.fail)
    #expect(await responder.answer(.auth(service: "imap", .login(user: "alice", password: Array("new".utf8)))) != AuthDaemonReply.fail)
}

@Test func socketServerAndLeanClient() async throws {
    let (root, chain) = try userdbSite()
    // A deep directory: the socket path is longer than sockaddr_un holds.
    let deep = root.path + "/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 60)
    let settings = AuthDaemonSettings(directory: deep)
    let server = AuthDaemonServer(socketPath: settings.socketPath, responder: AuthDaemonResponder(chain: chain))
    let lookup = AccountLookup(root: root, settings: settings)
    // No daemon yet: the lean lookup reads the compiled userdb itself.
    guard case .found(let offline) = lookup.lookup(user: "alice") else {
        Issue.record("no userdb fallback")
        return
    }
    #expect(offline.home == "/srv/alice")
    #expect(lookup.lookup(user: "nobody") == .notFound)
    #expect(lookup.lookup(user: "bad\nname") == .notFound)

    let channel = try await server.bind()
    defer { channel.close(promise: nil) }
    // A second daemon on the same socket is refused.
    await #expect(throws: AuthDaemonServerError.self) { _ = try await server.bind() }
    let client = AuthDaemonClient(socketPath: settings.socketPath)
    let online = try await offThread { try client.lookup(user: "alice", service: "imap") }
    guard case .account(let account) = online else {
        Issue.record("daemon lookup failed: \(online)")
        return
    }
    #expect(account.options == "disableimap=1,disableshared=1")
    #expect(try await offThread { try client.authenticate(service: "imap", .login(user: "alice", password: Array("wrong".utf8))) } == .fail)
    #expect(try await offThread { try client.enumerate() }.map(\.name) == ["alice"])
    #expect(await offThread { lookup.lookup(user: "alice") } == .found(account))

}

/// Runs blocking client code on a Dispatch thread, not on the cooperative pool the server's
/// answers need.
private func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

private func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}

/// FuzzAuth finding: "\u{0600}|" and "|\u{0301}" are single Characters, so a Character split
/// missed the separator and the text parser disagreed with the compiled database's byte split.
@Test func separatorsInsideGraphemeClusters() throws {
    let text = "alice\tgecos=a\u{0600}|gid=0500|home=/h\u{0301}|x=\u{0301}|y=1\nbob\thmac-md5pw\u{0600}|gid=1\n"
    let parsed = try UserdbParser.parseReporting(Array(text.utf8), file: "f")
    #expect(parsed.records.map(\.name) == ["alice"])
    #expect(parsed.records.first?.fields.map(\.0) == ["gecos", "gid", "home", "x", "y"])
    #expect(parsed.errors.count == 1)   // bob's field has no '=' once the '|' is seen
    let options = AccountOptions(parsing: "group=x\u{0600},disableimap=1,\u{0301}a=b")
    #expect(options["disableimap"] == "1")
    #expect(ScramClientFirst.unescape("a=2C\u{0301}b") == "a,\u{0301}b")
    #expect(ScramClientFirst.unescape("a=\u{0301}") == nil)
}
