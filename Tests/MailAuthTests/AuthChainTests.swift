import MailConfig
import Testing
@testable import MailAuth
@testable import MailAuthCore

/// A module with fixed answers.
private struct FixedModule: AuthModule {
    let name: String
    let answer: @Sendable (String) -> ModuleLookup
    func lookup(user: String, service: String) async -> ModuleLookup { answer(user) }
    func enumerate() async -> [AuthAccount]? { nil }
}

private func account(_ user: String, options: String = "") -> AuthAccount {
    AuthAccount(address: user, uid: "1", gid: "1", home: "/h/" + user, options: AccountOptions(parsing: options))
}

@Test func chainTriesModulesInOrderAndStopsOnTempfail() async {
    let first = FixedModule(name: "one") { user in
        user == "alice" ? .found(StoredAccount(account: account("alice"), cryptedPassword: "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=")) : .notFound
    }
    let second = FixedModule(name: "two") { user in
        switch user {
        case "alice": .found(StoredAccount(account: account("alice", options: "disableimap=1"), clearPassword: "other"))
        case "bob": .found(StoredAccount(account: account("bob", options: "disableshared=0"), clearPassword: "pw"))
        case "down": .temporaryFailure("database down")
        default: .notFound
        }
    }
    let chain = AuthChain(modules: [first, second], defaultOptions: AccountOptions(parsing: "disableshared=1,disablewebmail=1"))
    guard case .success(let alice) = await chain.authenticate(.password(user: "alice", password: Array("secret".utf8)), service: "imap") else {
        Issue.record("alice rejected")
        return
    }
    #expect(alice.clearPassword == "secret")
    #expect(alice.options.text == "disableshared=1,disablewebmail=1")
    // Wrong for the first module, right for the second: the second one's account wins.
    guard case .success(let other) = await chain.authenticate(.password(user: "alice", password: Array("other".utf8)), service: "imap") else {
        Issue.record("second module not asked")
        return
    }
    #expect(other.options.disables(service: "imap", encrypted: true))
    guard case .success(let bob) = await chain.authenticate(.password(user: "bob", password: Array("pw".utf8)), service: "pop3") else {
        Issue.record("bob rejected")
        return
    }
    #expect(bob.options.text == "disableshared=0,disablewebmail=1")
    #expect(await chain.authenticate(.password(user: "bob", password: Array("px".utf8)), service: "pop3") == .rejected)
    #expect(await chain.authenticate(.password(user: "nobody", password: []), service: "pop3") == .rejected)
    #expect(await chain.authenticate(.password(user: "down", password: Array("pw".utf8)), service: "pop3") == .temporaryFailure("database down"))
    #expect(await chain.lookup(user: "down", service: "pop3") == .temporaryFailure("database down"))
    #expect(await chain.authenticate(.password(user: String(repeating: "a", count: 10_000), password: []), service: "imap") == .rejected)
}

@Test func cramThroughTheChain() async throws {
    let state = try PasswordMaker.make("tanstaaftanstaaf", method: .hmacMD5)
    let module = FixedModule(name: "m") { user in
        switch user {
        case "tim": .found(StoredAccount(account: account("tim"), cryptedPassword: "x", hmacStates: [.md5: state]))
        case "clear": .found(StoredAccount(account: account("clear"), clearPassword: "tanstaaftanstaaf"))
        default: .notFound
        }
    }
    let chain = AuthChain(modules: [module])
    let challenge = Array("<1896.697170952@postoffice.reston.mci.net>".utf8)
    let good = "b913a602c7eda7a495b4e6e7334d3890"
    guard case .success(let tim) = await chain.authenticate(.cram(.md5, user: "tim", challenge: challenge, response: good), service: "imap") else {
        Issue.record("CRAM rejected")
        return
    }
    #expect(tim.cryptedPassword == nil && tim.clearPassword == nil)
    if case .success = await chain.authenticate(.cram(.md5, user: "clear", challenge: challenge, response: good), service: "imap") {} else {
        Issue.record("CRAM from clear password rejected")
    }
    #expect(await chain.authenticate(.cram(.md5, user: "tim", challenge: challenge, response: "00" + good.dropFirst(2)), service: "imap") == .rejected)
    // No HMAC state for SHA1 and no clear password: rejected.
    #expect(await chain.authenticate(.cram(.sha1, user: "tim", challenge: challenge, response: good), service: "imap") == .rejected)
}

@Test func userdbModuleUsesServicePasswords() async throws {
    let directory = temporaryDirectory()
    writeFile(directory + "/userdb", "amy\tuid=1|gid=1|home=/a|systempw={SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=|pop3pw={MD5RAW}5ebe2294ecd0e0f08eab7690d2a6ee69|imappw={SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=\n")
    let chain = AuthChain(modules: [UserdbModule(source: directory + "/userdb")])
    for service in ["pop3", "imap", "login"] {
        guard case .success = await chain.authenticate(.password(user: "amy", password: Array("secret".utf8)), service: service) else {
            Issue.record("\(service) rejected")
            continue
        }
    }
    writeFile(directory + "/userdb", "amy\tuid=1|gid=1|home=/a|systempw={SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=|pop3pw={SHA}fEqNCco3Yq9h5ZUglD3CZJT4lBs=\n")
    // pop3 uses pop3pw ("123456"), imap systempw ("secret").
    #expect(await chain.authenticate(.password(user: "amy", password: Array("secret".utf8)), service: "pop3") == .rejected)
    guard case .success = await chain.authenticate(.password(user: "amy", password: Array("123456".utf8)), service: "pop3") else {
        Issue.record("pop3pw rejected")
        return
    }
}

@Test func authtestReportLayout() async {
    let module = FixedModule(name: "m") { user in
        user == "alice" ? .found(StoredAccount(
            account: AuthAccount(address: "alice", uid: "65534", gid: "65534", home: "/srv/mail/alice", maildir: "/srv/mail/alice/Maildir",
                                 cryptedPassword: "$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ."),
            cryptedPassword: "$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.")) : .notFound
    }
    let io = ToolIO.buffered()
    #expect(await Authtest.run(["authtest", "alice", "secret"], io: io, chain: AuthChain(modules: [module])) == 0)
    #expect(io.outputText == """
        Authentication succeeded.

             Authenticated: alice  (uid 65534, gid 65534)
            Home Directory: /srv/mail/alice
                   Maildir: /srv/mail/alice/Maildir
                     Quota: (none)
        Encrypted Password: $1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.
        Cleartext Password: secret
                   Options: (none)

        """)
    let bad = ToolIO.buffered()
    #expect(await Authtest.run(["authtest", "-s", "imap", "alice", "wrong"], io: bad, chain: AuthChain(modules: [module])) == 1)
    #expect(bad.errorText == "Authentication FAILED: Operation not permitted\n")
    let usage = ToolIO.buffered()
    #expect(await Authtest.run(["authtest"], io: usage, chain: AuthChain(modules: [module])) == 1)
    #expect(usage.errorText == Authtest.usage + "\n")
}

@Test func daemonReplyFraming() {
    let reply = AuthAccount(address: "alice", uid: "65534", gid: "65534", home: "/srv/mail/alice", quota: "1000000S,100C",
                            options: AccountOptions(parsing: "group=staff,disablewebmail=1"), cryptedPassword: "$1$x", clearPassword: "secret").daemonReply
    #expect(reply == "UID=65534\nGID=65534\nHOME=/srv/mail/alice\nADDRESS=alice\nQUOTA=1000000S,100C\nPASSWD=$1$x\nPASSWD2=secret\nOPTIONS=group=staff,disablewebmail=1\n.\n")
}

@Test func throttleGrowsAndForgets() async {
    var policy = LoginThrottle.Policy()
    policy.freeFailures = 2
    policy.baseDelay = .milliseconds(100)
    policy.maxDelay = .milliseconds(350)
    let throttle = LoginThrottle(policy: policy)
    #expect(await throttle.delay(address: "192.0.2.1", user: "bob") == .zero)
    for _ in 0..<2 { await throttle.failed(address: "192.0.2.1", user: "bob") }
    #expect(await throttle.delay(address: "192.0.2.1", user: nil) == .zero)
    await throttle.failed(address: "192.0.2.1", user: "bob")
    #expect(await throttle.delay(address: "192.0.2.1", user: nil) == .milliseconds(100))
    await throttle.failed(address: "192.0.2.1", user: "bob")
    #expect(await throttle.delay(address: "192.0.2.1", user: nil) == .milliseconds(200))
    await throttle.failed(address: "192.0.2.1", user: "bob")
    #expect(await throttle.delay(address: "192.0.2.1", user: nil) == .milliseconds(350))
    // The user is slowed from another address too; success clears the user, not the address.
    #expect(await throttle.delay(address: "198.51.100.7", user: "BOB") == .milliseconds(350))
    await throttle.succeeded(address: "198.51.100.7", user: "bob")
    #expect(await throttle.delay(address: "198.51.100.7", user: "bob") == .zero)
    #expect(await throttle.failures(address: "192.0.2.1") == 5)
    #expect(await throttle.penalty(1000) == .milliseconds(350))
}

@Test func plaintextPolicy() {
    let plainTCP = PlaintextPolicy.Connection(encrypted: false, peerAddress: "192.0.2.9")
    let tls = PlaintextPolicy.Connection(encrypted: true, peerAddress: "192.0.2.9")
    #expect(!PlaintextPolicy.allows(.plain, on: plainTCP))
    #expect(!PlaintextPolicy.allows(.login, on: plainTCP))
    #expect(PlaintextPolicy.allows(.cramMD5, on: plainTCP))
    #expect(PlaintextPolicy.allows(.plain, on: tls))
    #expect(PlaintextPolicy.allows(.plain, on: plainTCP, allowInsecure: true))
    for loopback in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "[::1]"] {
        #expect(PlaintextPolicy.allows(.plain, on: .init(encrypted: false, peerAddress: loopback)), "\(loopback)")
    }
    for remote in ["128.0.0.1", "::2", "127.0.0", "localhost", "::ffff:10.0.0.1"] {
        #expect(!PlaintextPolicy.allowsPlaintextPasswords(on: .init(encrypted: false, peerAddress: remote)), "\(remote)")
    }
    #expect(PlaintextPolicy.offered(on: plainTCP) == [.scramSHA256, .scramSHA1, .cramSHA256, .cramSHA1, .cramMD5])
}

/// The authdaemon socket's way of asking: crypt(3) hashes checked in a task of their own,
/// digests where the caller runs. Both give the same answers as the plain call.
@Test func costlyHashesInATaskGiveTheSameAnswers() async throws {
    #expect(PasswordVerifier.isCheap("{SSHA}XUkNAT4OELYz/HYrgKs1AwqBxu1DPFoc"))
    #expect(PasswordVerifier.isCheap("{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols="))
    #expect(!PasswordVerifier.isCheap("$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ."))
    #expect(!PasswordVerifier.isCheap("{CRYPT}$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ."))
    #expect(!PasswordVerifier.isCheap("abNANd1rDfiNc"))
    let sha512 = try PasswordMaker.make("secret", method: .sha512crypt)
    let module = FixedModule(name: "one") { user in
        switch user {
        case "crypt": .found(StoredAccount(account: account("crypt"), cryptedPassword: sha512))
        case "digest": .found(StoredAccount(account: account("digest"), cryptedPassword: "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="))
        default: .notFound
        }
    }
    let chain = AuthChain(modules: [module])
    for inTask in [false, true] {
        for (user, password, expected) in [("crypt", "secret", true), ("crypt", "wrong", false),
                                           ("digest", "secret", true), ("digest", "wrong", false), ("nobody", "secret", false)] {
            let result = await chain.authenticate(.password(user: user, password: Array(password.utf8)), service: "imap",
                                                  costlyHashesInTask: inTask)
            if case .success(let found) = result {
                #expect(expected && found.address == user && found.clearPassword == password, "\(user) \(password) \(inTask)")
            } else {
                #expect(!expected, "\(user) \(password) \(inTask)")
            }
        }
    }
}

/// One name rule for every way into the chain (AuthLimits.isAcceptableName): a name with a
/// control character never reaches a module, for PRE and SCRAM as for a password.
@Test func namesWithControlCharactersNeverReachAModule() async {
    let anyone = FixedModule(name: "all") { user in .found(StoredAccount(account: account(user), clearPassword: "pw")) }
    let chain = AuthChain(modules: [anyone])
    if case .success = await chain.lookup(user: "plain", service: "imap") {} else { Issue.record("plain name refused") }
    for name in ["evil\r\nADDRESS=root", "tab\there", "del\u{7F}", ""] {
        #expect(await chain.lookup(user: name, service: "imap") == .rejected, "\(name)")
        #expect(await chain.authenticate(.password(user: name, password: Array("pw".utf8)), service: "imap") == .rejected)
        if case .success(let found) = await chain.scramCredentials(user: name, service: "imap", algorithm: .sha256) {
            #expect(found == nil, "\(name)")
        } else {
            Issue.record("SCRAM lookup of \(name) failed")
        }
    }
}
