import Foundation
import Testing
@testable import MailConfig

/// A throwaway config root with the given files under etc/.
private func makeRoot(_ files: [String: String]) throws -> ConfigRoot {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mailconfig-\(UUID().uuidString)").path
    for (name, text) in files {
        let full = path + "/etc/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    try FileManager.default.createDirectory(atPath: path + "/etc", withIntermediateDirectories: true)
    return ConfigRoot(path: path)
}

private let minimalSite: [String: String] = [
    "me": "mail.example.test\n",
    "defaultdomain": "example.test\n",
    "locals": "localhost\nmail.example.test\n",
    "hosteddomains": "example.test\n",
    "courierd": "MAILUSER=mail\nMAILGROUP=mail\n",
    "esmtpd": "ESMTPDSTART=YES\nADDRESS=127.0.0.1\nPORT=2525\n",
    "esmtpd-msa": "PORT=2587\n",
    "imapd": "IMAPDSTART=YES\nADDRESS=127.0.0.1\nPORT=2143\n",
    "aliases/system": "root: postmaster\npostmaster: demo@example.test\n",
    "aliases/local": "demo2: demo@example.test\n",
    "smtpaccess/default": "127.0.0.1\tallow\n",
    "queuetime": "3d\n",
]

@Test func loadsAMinimalSite() throws {
    let root = try makeRoot(minimalSite)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    let site = try ConfigLoader.load(root)
    #expect(site.me == "mail.example.test")
    #expect(site.defaultDomain == "example.test")
    #expect(site.hostedDomains.map(\.domain) == ["example.test"])
    #expect(site.aliases.map(\.name) == ["demo2", "root", "postmaster"])   // aliases/local before aliases/system
    #expect(site.queueTime == 3 * 86_400)
    #expect(site.sizeLimit == ConfigDefaults.sizeLimit)
    #expect(site.enabledListeners.map(\.kind) == [.esmtpd, .esmtpdMSA, .imapd])
    #expect(site.listener(.esmtpdMSA)?.endpoints == [ListenEndpoint(address: "127.0.0.1", port: 2587)])
    #expect(site.listener(.pop3d)?.enabled == false)   // no pop3d file: not configured
}

@Test func reportsEveryBadFileWithItsLine() throws {
    var files = minimalSite
    files["esmtpd"] = "ESMTPDSTART=YES\nADDRESS=127.0.0.1\nPORT=2525 oops\n"
    files["smtpaccess/default"] = "# access\n999.1\tallow\n"
    files["queuetime"] = "soon\n"
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    do {
        _ = try ConfigLoader.load(root)
        Issue.record("bad site accepted")
    } catch {
        let lines = error.description.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix(root.etc("esmtpd") + ":3: unexpected text after the value of PORT") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(root.etc("smtpaccess/default") + ":2: bad netblock") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(root.etc("queuetime") + ":1: ") }, "\(lines)")
        #expect(lines.filter { $0.contains("esmtpd:3") }.count == 1)   // reported once, not per service
    }
}

@Test func portClashesAreErrors() throws {
    var files = minimalSite
    files["esmtpd-msa"] = "# msa\n"
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    #expect {
        try ConfigLoader.load(root)
    } throws: { error in
        "\(error)".contains("esmtpd-msa would listen on 127.0.0.1:2525, which esmtpd already uses")
    }
}

@Test func sslServiceNeedsItsCertificate() throws {
    var files = minimalSite
    files["esmtpd-ssl"] = "ESMTPDSSLSTART=YES\nSSLADDRESS=127.0.0.1\nSSLPORT=2465\nTLS_CERTFILE=missing.pem\n"
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    #expect {
        try ConfigLoader.load(root)
    } throws: { error in
        "\(error)".hasPrefix(root.etc("esmtpd-ssl") + ":4: TLS_CERTFILE=" + root.etc("missing.pem"))
    }
}

@Test func missingEtcSaysHowToMakeASite() {
    #expect {
        try ConfigLoader.load(ConfigRoot(path: "/nonexistent/site"))
    } throws: { error in
        "\(error)".contains("courier init --root /nonexistent/site")
    }
}

@Test func worldReadableUserdbIsRefused() throws {
    var files = minimalSite
    files["userdb"] = "demo\tuid=8|gid=8|home=/h\n"
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    chmod(root.etc("userdb"), 0o644)
    #expect(throws: ConfigLoadError.self) { try ConfigLoader.load(root) }
    chmod(root.etc("userdb"), 0o600)
    #expect(try ConfigLoader.load(root).userdb.map(\.name) == ["demo"])
}

@Test func bigUserdbLoads() throws {
    // 50,000 accounts, about 5 MB: more than a config file may be, well within a userdb.
    var files = minimalSite
    files["userdb"] = (0..<50_000).map { "user\($0)@example.test\tuid=8|gid=8|home=/srv/mail/user\($0)|systempw=$6$saltsalt$hash\n" }.joined()
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    chmod(root.etc("userdb"), 0o600)
    #expect(try ConfigLoader.load(root).userdb.count == 50_000)
}

@Test func badUserdbLinesAreSkippedAndReported() throws {
    var files = minimalSite
    files["userdb"] = "demo\tuid=8|gid=8|home=/h\nbroken line without a tab\nother\tuid=8|gid=8|home=/o|oops\n"
        + "alice\tuid=8|gid=8|home=/a\n"
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    chmod(root.etc("userdb"), 0o600)
    let config = try ConfigLoader.load(root)
    #expect(config.userdb.map(\.name) == ["demo", "alice"])
    #expect(config.warnings.map(\.line) == [2, 3])
    #expect(config.warnings.allSatisfy { "\($0)".hasPrefix(root.etc("userdb") + ":") })
}

@Test func warntimeIsReadLikeQueuetime() throws {
    let defaults = try makeRoot(minimalSite)
    defer { try? FileManager.default.removeItem(atPath: defaults.path) }
    #expect(try ConfigLoader.load(defaults).warnTime == 4 * 3_600)   // Courier's default
    var files = minimalSite
    files["warntime"] = "1h30m\n"
    let root = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: root.path) }
    #expect(try ConfigLoader.load(root).warnTime == 5_400)
    files["warntime"] = "0\n"
    let never = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: never.path) }
    #expect(try ConfigLoader.load(never).warnTime == 0)
    files["warntime"] = "later\n"
    let bad = try makeRoot(files)
    defer { try? FileManager.default.removeItem(atPath: bad.path) }
    #expect(throws: ConfigLoadError.self) { try ConfigLoader.load(bad) }
}
