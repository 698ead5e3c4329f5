import Testing
@testable import MailConfig

@Test func listFilesDropCommentsAndBlanks() throws {
    let entries = try ListFileParser.parse("# domains\n\nexample.test\n  localhost  # loopback\r\n#x\n.sub.example\n", file: "locals")
    #expect(entries.map(\.text) == ["example.test", "localhost", ".sub.example"])
    #expect(entries.map(\.line) == [3, 4, 6])
}

@Test func wholeLineCommentsKeepHashesInValues() throws {
    let entries = try ListFileParser.parse("# c\n1.2.3.4\tallow,BLOCK=\"550 #1\"\n", file: "smtpaccess/default", comments: .wholeLine)
    #expect(entries.map(\.text) == ["1.2.3.4\tallow,BLOCK=\"550 #1\""])
}

@Test(arguments: [
    ("mail.example.test\n", "mail.example.test"),
    ("mail.example.test\r\nignored\n", "mail.example.test"),
    ("no newline", "no newline"),
    ("\nsecond", ""),
])
func oneLineFiles(_ text: String, _ expected: String) {
    #expect(ListFileParser.firstLine(Array(text.utf8)) == expected)
}

@Test func emptyOneLineFileIsMissing() {
    #expect(ListFileParser.firstLine([]) == nil)
}

@Test func domainLists() throws {
    let patterns = try DomainListParser.parse(Array("Example.TEST\n.sub.example\n!bad.sub.example\n*\n*.example.test\n".utf8), file: "locals")
    #expect(patterns.map(\.kind) == [.exact, .subdomains, .excluded, .hostname, .exact])
    #expect(patterns.map(\.domain) == ["example.test", "sub.example", "bad.sub.example", "", "*.example.test"])
}

@Test func hostedDomainAliases() throws {
    let patterns = try DomainListParser.parse(Array("example.test\nalias.test\texample.test\n".utf8), file: "hosteddomains", hosted: true)
    #expect(patterns.map(\.target) == [nil, "example.test"])
}

@Test func badDomainNamesTheLine() {
    #expect(throws: ConfigError(file: "locals", line: 2, reason: "bad domain 'bad..domain'")) {
        try DomainListParser.parse(Array("ok.test\nbad..domain\n".utf8), file: "locals")
    }
    #expect(throws: ConfigError(file: "locals", line: 1, reason: "expected one domain per line")) {
        try DomainListParser.parse(Array("a.test b.test\n".utf8), file: "locals")
    }
}

@Test func aliasesWithContinuations() throws {
    let text = "# system aliases\nroot: postmaster\npostmaster: demo@example.test,\n  other@example.test\nlist: a, \"b, c\"@x.test, :include:/etc/list\n"
    let aliases = try AliasFileParser.parse(Array(text.utf8), file: "aliases/system")
    #expect(aliases.map(\.name) == ["root", "postmaster", "list"])
    #expect(aliases[1].targets == ["demo@example.test", "other@example.test"])
    #expect(aliases[2].targets == ["a", "\"b, c\"@x.test", ":include:/etc/list"])
    #expect(aliases.map(\.line) == [2, 3, 5])
}

@Test func badAliases() {
    #expect(throws: ConfigError(file: "a", line: 2, reason: "expected 'name: address, address…'")) {
        try AliasFileParser.parse(Array("x: y\nno colon here\n".utf8), file: "a")
    }
    #expect(throws: ConfigError(file: "a", line: 1, reason: "continuation line without an alias before it")) {
        try AliasFileParser.parse(Array("  y\n".utf8), file: "a")
    }
    #expect(throws: ConfigError(file: "a", line: 1, reason: "alias x has no targets")) {
        try AliasFileParser.parse(Array("x:\n".utf8), file: "a")
    }
}

@Test func accessRules() throws {
    let text = "127.0.0.1\tallow\n:0000:0000:0000:0000:0000:0000:0000:0001\tallow\n10\tallow,RELAYCLIENT\n192.168.0.0/16\tdeny\n*\tallow,BLOCK=\"550 Go, away\",SIZELIMIT=100\n"
    let rules = try AccessFileParser.parse(Array(text.utf8), file: "smtpaccess/default")
    #expect(rules.map(\.netblock) == ["127.0.0.1", ":0000:0000:0000:0000:0000:0000:0000:0001", "10", "192.168.0.0/16", "*"])
    #expect(rules.map(\.allowsRelaying) == [false, false, true, false, false])
    #expect(rules[3].action == .deny)
    #expect(rules[4].action == .allow([AccessVariable(name: "BLOCK", value: "550 Go, away"), AccessVariable(name: "SIZELIMIT", value: "100")]))
}

@Test(arguments: [
    ("300.1\tallow\n", "bad netblock"),
    ("1.2.3.4\n", "expected '<netblock><TAB>allow'"),
    ("1.2.3.4\tpermit\n", "expected allow or deny"),
    ("1.2.3.4\tdeny,X\n", "deny takes no variables"),
    ("1.2.3.4\tallow,9X\n", "bad variable"),
    ("1.2.3.4/40\tallow\n", "bad netblock"),
])
func badAccessRules(_ text: String, _ reason: String) {
    do {
        _ = try AccessFileParser.parse(Array(("# header\n" + text).utf8), file: "smtpaccess/default")
        Issue.record("accepted \(text.debugDescription)")
    } catch {
        #expect(error.line == 2)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }
}

@Test func userdbRecords() throws {
    let text = "# users\ndemo@example.test\tuid=8|gid=8|home=/m/demo|systempw=$6$salt$hash\n8=\tdemo@example.test\n"
    let records = try UserdbParser.parse(Array(text.utf8), file: "userdb")
    #expect(records.count == 1)
    #expect(records[0]["home"] == "/m/demo")
    #expect(records[0]["systempw"] == "$6$salt$hash")
    #expect(records[0].formatted == "demo@example.test\tuid=8|gid=8|home=/m/demo|systempw=$6$salt$hash")
    #expect(throws: ConfigError(file: "userdb", line: 1, reason: "expected 'name<TAB>field=value|field=value…'")) {
        try UserdbParser.parse(Array("demo uid=1\n".utf8), file: "userdb")
    }
}

@Test(arguments: [
    ("1w", 604_800), ("1w2d", 777_600), ("12h", 43_200), ("5M", 300), ("90", 90), ("1h 30m 15", 5_415), ("0", 0), ("", 0),
])
func intervals(_ text: String, _ seconds: Int) {
    #expect(IntervalParser.seconds(text) == seconds)
}

@Test(arguments: ["1x", "1.5h", "h", "99999999999999999999w"])
func badIntervals(_ text: String) {
    #expect(IntervalParser.seconds(text) == nil)
}

@Test func directorySourcesInNameOrder() throws {
    let names = try DirectorySource.select([
        .init(name: "zz", modified: 1), .init(name: "Ab", modified: 1), .init(name: "aa", modified: 1),
        .init(name: ".hidden", modified: 1), .init(name: "backup~", modified: 1), .init(name: "sub", modified: 1, isRegularFile: false),
        .init(name: "system.dist", modified: 1), .init(name: "system", modified: 2),
    ], directory: "aliases")
    #expect(names == ["Ab", "aa", "system", "zz"])
}

@Test func packageLeftoversAreErrors() {
    #expect(throws: ConfigError.self) {
        try DirectorySource.select([.init(name: "default.dpkg-dist", modified: 1)], directory: "smtpaccess")
    }
    #expect(throws: ConfigError.self) {
        try DirectorySource.select([.init(name: "system.dist", modified: 5), .init(name: "system", modified: 2)], directory: "aliases")
    }
}
