import Glibc
import MailConfig
import MailQueue
import Testing
@testable import Delivery

/// A small site on disk: `example.test` hosted, `example.org` local, a demo user, aliases.
struct TestSite {
    let root: String
    let home: String
    let router: AddressRouter

    init(dotCourier: [String: String] = [:], aliases: String = "", quota: String? = nil, percentRelay: String? = nil) throws {
        var template = Array("/tmp/delivery-test-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        home = root + "/mail/example.test/demo"
        for directory in ["/etc", "/etc/aliases", "/var", "/var/queue", "/mail", "/mail/example.test", "/mail/example.test/demo",
                          "/mail/example.test/demo/Maildir", "/mail/example.test/demo/Maildir/new",
                          "/mail/example.test/demo/Maildir/cur", "/mail/example.test/demo/Maildir/tmp"] {
            mkdir(root + directory, 0o755)
            // The process-wide umask may be tighter while another test runs (maildrop's tests
            // deliver under UMASK 077): the mode is set explicitly.
            chmod(root + directory, 0o755)
        }
        chmod(root, 0o755)
        // Never uid 0: the tests may run as root; then the mail user owns the mailbox.
        let owner: (uid: UInt32, gid: UInt32) = getuid() == 0 ? Self.mailUser() : (getuid(), getgid())
        let fields = "uid=\(owner.uid)|gid=\(owner.gid)|home=\(home)|mail=\(home)/Maildir" + (quota.map { "|quota=\($0)" } ?? "")
        Self.write(root + "/etc/me", "mx.example.test\n")
        Self.write(root + "/etc/locals", "localhost\nexample.org\n")
        Self.write(root + "/etc/hosteddomains", "example.test\nalias.test\texample.test\n")
        Self.write(root + "/etc/esmtpacceptmailfor", "example.test\nbackup.test\n")
        Self.write(root + "/etc/userdb", "demo@example.test\t\(fields)\ndemo\t\(fields)\n")
        Self.write(root + "/etc/aliases/system", "postmaster: demo@example.test\n" + aliases)
        for (name, text) in dotCourier { Self.write(home + "/" + name, text) }
        if let percentRelay { Self.write(root + "/etc/esmtppercentrelay", percentRelay) }
        if getuid() == 0 {
            for path in [home, home + "/Maildir", home + "/Maildir/new", home + "/Maildir/cur", home + "/Maildir/tmp"] {
                chown(path, owner.uid, owner.gid)
            }
        }
        let site = try ConfigLoader.load(ConfigRoot(path: root))
        router = AddressRouter(site: site)
    }

    static func mailUser() -> (UInt32, UInt32) {
        guard let entry = getpwnam("mail") else { return (8, 8) }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    static func write(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        return String(decoding: bytes.prefix(max(0, count)), as: UTF8.self)
    }

    func files(_ sub: String) -> [String] {
        guard let directory = opendir(home + "/Maildir/" + sub) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names
    }

    func request(_ recipient: String, body: String = "Subject: hi\n\nhello\n", sender: String = "a@b",
                 mayBeRepeat: Bool = false) -> DeliveryRequest {
        let header = QueuedMessageHeader(id: QueueID("0000000065F0A1B2.00003039.00000001"), submitted: 1_700_000_000,
                                         expires: 1_700_604_800,
                                         envelope: QueueEnvelope(sender: sender, recipients: [QueueRecipient(address: recipient)]))
        return DeliveryRequest(header: header, body: Array(body.utf8), recipientIndex: 0, mayBeRepeat: mayBeRepeat)
    }
}

@Suite struct RecipientLookupTests {
    @Test(arguments: [
        ("demo@example.test", RecipientRoute.local),
        ("DEMO@Example.Test", .local),
        ("demo@alias.test", .local),
        ("demo", .local),
        ("postmaster@example.org", .local),
        ("nobody-here@example.test", .unknownUser),
        ("someone@backup.test", .acceptedRelay),
        ("someone@elsewhere.test", .remote),
    ])
    func routes(address: String, route: RecipientRoute) async throws {
        let site = try TestSite()
        #expect(await site.router.route(address) == route)
    }

    @Test func extensionNeedsADotCourierFile() async throws {
        let site = try TestSite(dotCourier: [".courier-lists-default": "./Maildir/\n"])
        #expect(await site.router.route("demo-lists-swift@example.test") == .local)
        #expect(await site.router.route("demo+lists+x@example.test") == .local)
        #expect(await site.router.route("demo-other@example.test") == .unknownUser)
        if case let .account(account, ext, _) = site.router.resolve("demo-lists-swift@example.test") {
            #expect(account.name == "demo@example.test")
            #expect(ext == "lists-swift")
        } else {
            Issue.record("not an account")
        }
        #expect(DotCourierFile.find(home: site.home, extension: "lists-swift")?.defaultPart == "swift")
    }

    @Test func extensionCannotLeaveTheHomeDirectory() async throws {
        let site = try TestSite(dotCourier: [".courier-lists-default": "./Maildir/\n", ".courier-x": "./Maildir/\n"])
        #expect(DotCourierFile.find(home: site.home, extension: "lists-a/../../x") == nil)
        #expect(DotCourierFile.find(home: site.home, extension: "lists-a\nb") == nil)
        #expect(await site.router.route("demo-lists-a/../../etc@example.test") == .unknownUser)
    }

    @Test func aliasesAndVirtualDomains() throws {
        let site = try TestSite(aliases: "team: demo@example.test, x@remote.test\n@virtual.test: demo\n")
        #expect(site.router.resolve("team@example.org") == .alias(["demo@example.test", "x@remote.test"]))
        #expect(site.router.resolve("team") == .alias(["demo@example.test", "x@remote.test"]))
    }

    @Test func aliasExpansionIsBoundedAndQualified() throws {
        let site = try TestSite(aliases: "a: b, c@remote.test\nb: a, |/bin/true, d\nloop1: loop2\nloop2: loop1\n")
        #expect(site.router.expand("a@example.org") == ["a@example.org", "b@mx.example.test", "c@remote.test",
                                                         "a@mx.example.test", "d@mx.example.test"])
        #expect(site.router.expand("loop1@example.org").count == 3)
        #expect(site.router.expand("demo@example.test") == ["demo@example.test"])
    }

    @Test func percentHackForListedDomainsThroughOurDomains() throws {
        let site = try TestSite(percentRelay: "partner.test\n.sub.test\n")
        #expect(site.router.percentRelayTarget("joe%partner.test@example.org") == "joe@partner.test")
        #expect(site.router.percentRelayTarget("joe%PARTNER.test@example.test") == "joe@partner.test")
        #expect(site.router.percentRelayTarget("a%b%x.sub.test@localhost") == "a%b@x.sub.test")
        #expect(site.router.percentRelayTarget("joe%other.test@example.org") == nil)
        #expect(site.router.percentRelayTarget("joe%partner.test@remote.test") == nil)
        #expect(site.router.percentRelayTarget("%partner.test@example.org") == nil)
        #expect(site.router.percentRelayTarget("joe@example.org") == nil)
        #expect(try TestSite().router.percentRelayTarget("joe%partner.test@example.org") == nil)
    }

    /// Courier's config_islocal, in any case: `locals` or `hosteddomains` (testmxlookup's
    /// `[ LOCAL ]`, esmtp's MX loop check, the percent hack's "through our domain").
    @Test func localDomainsAreLocalsAndHostedDomains() throws {
        let router = try TestSite().router
        #expect(router.isLocalDomain("example.org") && router.isLocalDomain("LocalHost"))
        #expect(router.isLocalDomain("Example.TEST") && router.isLocalDomain("alias.test"))
        #expect(!router.isLocalDomain("remote.test") && !router.isLocalDomain("sub.example.org"))
    }
}

@Suite struct DotCourierParserTests {
    @Test func parsesEveryInstructionKind() {
        let text = "# comment\n\n./Maildir/\n/var/mail/demo\n| /usr/bin/procmail -d \\\n  demo\n|| dotforward\n!other@x.test\nfriend@x.test, <two@y.test>\n&legacy@z.test\n"
        #expect(DotCourierParser.parse(Array(text.utf8)) == [
            .mailbox("./Maildir"), .mailbox("/var/mail/demo"), .program("/usr/bin/procmail -d    demo"),
            .dynamic("dotforward"), .forward(["other@x.test"]), .forward(["friend@x.test", "two@y.test"]),
            .forward(["legacy@z.test"]),
        ])
    }

    @Test func randomBytesNeverCrash() {
        for _ in 0..<200 {
            _ = DotCourierParser.parse((0..<Int.random(in: 0..<100)).map { _ in UInt8.random(in: 0...255) })
        }
    }
}

@Suite struct LocalTransportTests {
    @Test func defaultDeliveryGoesToTheMaildirWithEnvelopeLines() throws {
        let site = try TestSite()
        let transport = LocalTransport(router: site.router)
        let outcome = transport.deliver(site.request("demo@example.test"))
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        let names = site.files("new")
        #expect(names.count == 1)
        #expect(TestSite.read(site.home + "/Maildir/new/" + names[0])
            == "Delivered-To: demo@example.test\nReturn-Path: <a@b>\nSubject: hi\n\nhello\n")
    }

    @Test func repeatAfterRestartIsRecognised() throws {
        let site = try TestSite()
        let transport = LocalTransport(router: site.router)
        _ = transport.deliver(site.request("demo@example.test"))
        let again = transport.deliver(site.request("demo@example.test", mayBeRepeat: true))
        guard case .delivered = again else { Issue.record("\(again)"); return }
        #expect(site.files("new").count == 1)
    }

    @Test func quotaDefersDelivery() throws {
        let site = try TestSite(quota: "10S")
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo@example.test"))
        #expect(outcome == .deferred("Maildir over quota."))
        #expect(site.files("new").isEmpty)
    }

    @Test func mboxAndProgramAndComments() throws {
        let site = try TestSite(dotCourier: [".courier": "# mine\n./mbox\n| cat > prog.out; echo \"$RECIPIENT $SENDER $EXT $HOME\" > env.out\n"])
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo@example.test"))
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        let mbox = TestSite.read(site.home + "/mbox")
        #expect(mbox.hasPrefix("From a@b "))
        #expect(mbox.hasSuffix("\nDelivered-To: demo@example.test\nReturn-Path: <a@b>\nSubject: hi\n\nhello\n\n"))
        #expect(TestSite.read(site.home + "/prog.out") == "Subject: hi\n\nhello\n")
        #expect(TestSite.read(site.home + "/env.out") == "demo@example.test a@b  \(site.home)\n")
        #expect(site.files("new").isEmpty)
    }

    @Test(arguments: [(Int32(0), true), (75, false), (67, false)])
    func programExitCodes(code: Int32, delivered: Bool) throws {
        let site = try TestSite(dotCourier: [".courier": "| echo trouble; exit \(code)\n"])
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo@example.test"))
        switch (code, outcome) {
        case (0, .delivered): break
        case (75, .deferred(let text)): #expect(text == "trouble\n")
        case (67, .failed(let text)): #expect(text == "trouble\n")
        default: Issue.record("exit \(code): \(outcome)")
        }
        _ = delivered
    }

    @Test func programNeverRunsInTheServersDirectory() throws {
        // As root the program runs as the mailbox owner; in a home it cannot enter it runs in
        // "/", not in the server's own working directory.
        guard getuid() == 0 else { return }
        let out = "/tmp/courier-pwd-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let site = try TestSite(dotCourier: [".courier": "| pwd > \(out)\n"])
        chmod(site.root + "/mail", 0o700)
        defer {
            chmod(site.root + "/mail", 0o755)
            unlink(out)
        }
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo@example.test"))
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        #expect(TestSite.read(out) == "/\n")
    }

    @Test func extensionFileAndDefaultVariable() throws {
        let site = try TestSite(dotCourier: [".courier-lists-default": "| echo \"$EXT $EXT2 $DEFAULT\" > ext.out\n"])
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo-lists-swift@example.test"))
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        #expect(TestSite.read(site.home + "/ext.out") == "lists-swift swift swift\n")
    }

    @Test func forwardIsEnqueuedWithDeliveredTo() throws {
        let site = try TestSite(dotCourier: [".courier": "!friend@elsewhere.test\n"])
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo@example.test"))
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        let queued = QueueRecovery.scan(site.root + "/var/queue").messages
        #expect(queued.map(\.header.envelope.recipients.first?.address) == ["friend@elsewhere.test"])
        #expect(queued.first?.header.envelope.sender == "a@b")
    }

    @Test func loopAndUnknownUserFailPermanently() throws {
        let site = try TestSite()
        let transport = LocalTransport(router: site.router)
        #expect(transport.deliver(site.request("demo@example.test", body: "Delivered-To: demo@example.test\n\nx\n"))
            == .failed("Mail loop - already have my Delivered-To: header."))
        #expect(transport.deliver(site.request("ghost@example.test")) == .failed("User <ghost@example.test> unknown."))
    }

    @Test func emptyOfInstructionsDiscards() throws {
        let site = try TestSite(dotCourier: [".courier": "# nothing\n"])
        let outcome = LocalTransport(router: site.router).deliver(site.request("demo@example.test"))
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        #expect(site.files("new").isEmpty)
    }
}
