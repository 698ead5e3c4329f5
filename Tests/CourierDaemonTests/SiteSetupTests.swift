import Foundation
import MailConfig
import Testing
@testable import SiteSetup

private func temporaryRoot() -> ConfigRoot {
    ConfigRoot(path: FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString)").path)
}

@Test func demoSiteLoadsWithTheContractPorts() throws {
    let root = temporaryRoot()
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    var initializer = try SiteInitializer(root: root, options: SiteOptions(domain: "example.test", demo: true, portOffset: 7, address: "127.0.0.1"))
    let report = try initializer.make()
    #expect(report.demoLogins == ["demo@example.test", "demo"])
    let site = try ConfigLoader.load(root)
    #expect(site.me == "mail.example.test")
    #expect(site.enabledListeners.count == ServiceKind.allCases.count)
    for listener in site.listeners {
        #expect(listener.endpoints == [ListenEndpoint(address: "127.0.0.1", port: ConfigDefaults.demoPort(listener.kind) + 7)])
    }
    #expect(site.smtpAccess.allSatisfy { !$0.allowsRelaying })
    #expect(site.aliases.contains { $0.name == "postmaster" && $0.targets == ["demo@example.test"] })
    let demo = try #require(site.userdb.first { $0.name == "demo@example.test" })
    #expect(PasswordHash.verify("demo", hash: demo["systempw"] ?? ""))
    #expect(!PasswordHash.verify("wrong", hash: demo["systempw"] ?? ""))
    #expect(site.listener(.imapd)?.variables["IMAP_CAPABILITY_TLS"]?.hasSuffix(" IDLE AUTH=PLAIN") == true)
    #expect(site.listener(.esmtpdSSL)?.certificateFile == root.etc("esmtpd.pem"))
}

@Test func secondInitNeedsForce() throws {
    let root = temporaryRoot()
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    var first = try SiteInitializer(root: root, options: SiteOptions(domain: "example.com"))
    _ = try first.make()
    var second = try SiteInitializer(root: root, options: SiteOptions(domain: "example.com"))
    #expect(throws: SiteSetupError.self) { try second.make() }
    var forced = try SiteInitializer(root: root, options: SiteOptions(domain: "example.com", force: true))
    _ = try forced.make()
}

@Test(arguments: [
    SiteOptions(domain: "localhost"),
    SiteOptions(domain: "example.com", portOffset: 60_000),
    SiteOptions(domain: "example.com", portOffset: -1),
    SiteOptions(domain: "example.com", address: "not-an-ip"),
])
func badOptionsAreRefused(_ options: SiteOptions) {
    #expect(!options.validate().isEmpty)
}

@Test func loopbackDecidesPlainTextLogins() {
    #expect(SiteOptions(domain: "a.test", address: "127.0.0.1").plaintextLoginAllowed)
    #expect(SiteOptions(domain: "a.test", address: "::1").plaintextLoginAllowed)
    #expect(!SiteOptions(domain: "a.test").plaintextLoginAllowed)
    #expect(!SiteOptions(domain: "a.test", address: "192.0.2.1").plaintextLoginAllowed)
}

@Test(arguments: ["plain", "", "two words", "quote\"d", "dollar $HOME", "back\\slash", "tick`s", "@example.test", "a=b", "multi\nline"])
func writtenValuesReadBackUnchanged(_ value: String) throws {
    var writer = VariableFileWriter(title: "test", about: ["line one", ""])
    writer.setting("VALUE", value, doc: ["what it is"])
    let parsed = try VariableFileParser.parse(writer.contents, file: "test")
    #expect(parsed.assignments.map(\.value) == [value])
    #expect(parsed.markers.map(\.name) == ["VALUE"])
}

@Test func passwordHashes() throws {
    let sha = try PasswordHash.make("secret")
    #expect(sha.hasPrefix("$6$"))
    #expect(PasswordHash.verify("secret", hash: sha))
    let yes = try PasswordHash.make("secret", method: .yescrypt)
    #expect(yes.hasPrefix("$y$"))
    #expect(PasswordHash.verify("secret", hash: yes))
    #expect(!PasswordHash.verify("secret", hash: "not a hash"))
}

@Test func certificatePEMHoldsKeyThenCertificate() throws {
    let certificate = try SelfSignedCertificate(commonName: "mail.example.test", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"])
    let keyAt = try #require(certificate.pem.range(of: "-----BEGIN PRIVATE KEY-----"))
    let certificateAt = try #require(certificate.pem.range(of: "-----BEGIN CERTIFICATE-----"))
    #expect(keyAt.lowerBound < certificateAt.lowerBound)
    #expect(SelfSignedCertificate.addressBytes("127.0.0.1") == [127, 0, 0, 1])
    #expect(SelfSignedCertificate.addressBytes("::1")?.count == 16)
    #expect(SelfSignedCertificate.addressBytes("localhost") == nil)
}
