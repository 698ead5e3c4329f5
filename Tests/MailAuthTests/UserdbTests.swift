import Glibc
import MailConfig
import Testing
@testable import MailAuthCore

/// A fresh temporary directory for one test.
func temporaryDirectory() -> String {
    var template = Array("/tmp/mailauth-test-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { buffer -> String in
        guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return "/tmp" }
        return String(cString: base)
    }
}

func writeFile(_ path: String, _ text: String, mode: mode_t = 0o600) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    fchmod(fd, mode)
    close(fd)
}

func readFile(_ path: String) -> String {
    (try? AuthFiles.read(path, limit: 1 << 24)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
}

@Test func compiledFormatFindsEveryNameAndNothingElse() throws {
    let entries = (0..<500).map { (name: Array("user\($0)@example.test".utf8), value: Array("uid=\($0)".utf8)) }
    let bytes = UserdbDatabaseFormat.build(entries)
    let file = try #require(UserdbDatabaseFile(bytes: bytes, path: "mem"))
    #expect(file.count == 500)
    for index in [0, 1, 250, 499] {
        #expect(file.value(for: Array("user\(index)@example.test".utf8)) == Array("uid=\(index)".utf8))
    }
    #expect(file.value(for: Array("user500@example.test".utf8)) == nil)
    #expect(file.value(for: []) == nil)
    #expect(UserdbDatabaseFile(bytes: UserdbDatabaseFormat.build([]), path: "empty")?.count == 0)
}

@Test func damagedCompiledFilesAreRejectedOrHarmless() {
    let good = UserdbDatabaseFormat.build([(Array("a".utf8), Array("uid=1".utf8)), (Array("b".utf8), Array("uid=2".utf8))])
    #expect(UserdbDatabaseFile(bytes: Array(good.dropLast()), path: "cut") == nil)
    #expect(UserdbDatabaseFile(bytes: Array("CUSRDB01".utf8), path: "short") == nil)
    #expect(UserdbDatabaseFile(bytes: [], path: "nothing") == nil)
    // Flip every byte after the header one at a time: lookups may fail, never crash.
    for index in 24..<good.count {
        var bad = good
        bad[index] ^= 0xff
        if let file = UserdbDatabaseFile(bytes: bad, path: "bad") {
            _ = file.value(for: Array("a".utf8))
            _ = file.value(for: Array("b".utf8))
            _ = file.allEntries()
        }
    }
}

@Test func makeuserdbSplitsSecretsAndReportsBadLines() throws {
    let directory = temporaryDirectory()
    let source = directory + "/userdb"
    writeFile(source, """
        # accounts
        alice\tuid=1000|gid=1000|home=/home/alice|mail=/home/alice/Maildir|systempw=$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.|imappw={SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=
        this line has no tab
        bob\tuid=1001|gid=1001|home=/home/bob|options=disableimap=1
        alice\tuid=1|gid=1|home=/elsewhere
        carol\tuid=1002|gid=1002|home=/home/carol|bad field
        1000=\talice

        """)
    let io = ToolIO.buffered(environment: [:])
    #expect(Makeuserdb.run(["makeuserdb", "-f", source], io: io) == 0)
    #expect(io.errorText == """
        makeuserdb: \(source):3: expected 'name<TAB>field=value|field=value…'
        makeuserdb: \(source):6: bad field 'bad field' (expected field=value)
        makeuserdb: \(source):5: duplicate account 'alice' (first at \(source):2); ignored

        """)
    #expect(AuthFiles.mode(source + ".dat") == 0o644)
    #expect(AuthFiles.mode(source + "shadow.dat") == 0o600)
    let publicPart = readFile(source + ".dat")
    #expect(publicPart.contains("/home/alice") && !publicPart.contains("$1$"))
    #expect(readFile(source + "shadow.dat").contains("$1$iABm"))

    let store = UserdbStore(source: source)
    let alice = try #require(try store.lookup("alice"))
    #expect(alice.home == "/home/alice")
    #expect(alice.maildir == "/home/alice/Maildir")
    #expect(alice.passwordField(service: "imap") == "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=")
    #expect(alice.passwordField(service: "pop3") == "$1$iABm/ZwW$44RUCVaft7h/PEz/YqOAZ.")
    #expect(try store.lookup("bob")?.options == "disableimap=1")
    #expect(try store.lookup("carol") == nil)
    #expect(try store.lookup("nobody") == nil)
    #expect(try store.lookup(String(repeating: "x", count: 100_000)) == nil)
    #expect(try store.allAccounts().map(\.name).sorted() == ["alice", "bob"])
}

@Test func storeNoticesARebuiltDatabaseAndFallsBackToText() throws {
    let directory = temporaryDirectory()
    let source = directory + "/userdb"
    writeFile(source, "dave\tuid=5|gid=5|home=/d|systempw={SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n")
    let store = UserdbStore(source: source)
    // No userdb.dat yet: the text is compiled in memory.
    #expect(try store.lookup("dave")?.passwordField(service: "imap") == "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=")
    _ = try UserdbCompiler.make(UserdbPaths(source: source))
    #expect(try store.lookup("dave")?.home == "/d")
    writeFile(source, "erin\tuid=6|gid=6|home=/e\n")
    _ = try UserdbCompiler.make(UserdbPaths(source: source))
    #expect(try store.lookup("dave") == nil)
    #expect(try store.lookup("erin")?.home == "/e")
}

@Test func makeuserdbRefusesAnOpenSourceAndReadsDirectories() throws {
    let directory = temporaryDirectory()
    let source = directory + "/userdb"
    writeFile(source, "x\tuid=1|gid=1|home=/x\n", mode: 0o644)
    let io = ToolIO.buffered()
    #expect(Makeuserdb.run(["makeuserdb", "-f", source], io: io) == 1)
    #expect(io.errorText.contains("MAY NOT HAVE GROUP OR WORLD PERMISSIONS"))
    #expect(!AuthFiles.exists(source + ".dat"))

    let tree = directory + "/tree"
    mkdir(tree, 0o700)
    mkdir(tree + "/example.test", 0o700)
    writeFile(tree + "/local", "root\tuid=0|gid=0|home=/root\n")
    writeFile(tree + "/example.test/users", "amy@example.test\tuid=7|gid=7|home=/amy\n")
    writeFile(tree + "/.hidden", "ghost\tuid=9|gid=9|home=/g\n")
    #expect(Makeuserdb.run(["makeuserdb", "-f", tree + "/"], io: ToolIO.buffered()) == 0)
    let store = UserdbStore(source: tree)
    #expect(try store.lookup("amy@example.test")?.home == "/amy")
    #expect(try store.lookup("root")?.uid == "0")
    #expect(try store.lookup("ghost") == nil)
}

@Test func userdbCommandEditsLikeCourier() throws {
    let directory = temporaryDirectory()
    let file = directory + "/u"
    writeFile(file, "# keep me\nbob\tuid=1|gid=2|home=/h\n")
    #expect(UserdbCommand.run(["userdb", "-f", file, "al", "set", "uid=3"], io: ToolIO.buffered()) == 0)
    #expect(UserdbCommand.run(["userdb", "-f", file, "bob", "set", "systempw", "uid=9"], io: ToolIO.buffered(input: Array("x\n".utf8))) == 0)
    #expect(readFile(file) == "# keep me\nbob\tuid=9|gid=2|home=/h|systempw=x\nal\tuid=3\n")
    #expect(UserdbCommand.run(["userdb", "-f", file, "bob", "unset", "gid"], io: ToolIO.buffered()) == 0)
    #expect(UserdbCommand.run(["userdb", "-f", file, "al", "del"], io: ToolIO.buffered()) == 0)
    #expect(UserdbCommand.run(["userdb", "-f", file, "nobody", "del"], io: ToolIO.buffered()) == 0)
    #expect(readFile(file) == "# keep me\nbob\tuid=9|home=/h|systempw=x\n")
    #expect(AuthFiles.mode(file) == 0o600)

    let show = ToolIO.buffered()
    #expect(UserdbCommand.run(["userdb", "-show", "-f", file, "bob"], io: show) == 0)
    #expect(show.outputText == "uid=9\nhome=/h\nsystempw=x\n")
    let list = ToolIO.buffered()
    #expect(UserdbCommand.run(["userdb", "-show", "-f", file], io: list) == 0)
    #expect(list.outputText == "bob\n")

    let bad = ToolIO.buffered()
    #expect(UserdbCommand.run(["userdb", "-f", file, "bob", "set", "x=a|b"], io: bad) == 1)
    #expect(bad.errorText == "Invalid field or value.\n")
    let usage = ToolIO.buffered()
    #expect(UserdbCommand.run(["userdb"], io: usage) == 1)
    #expect(usage.outputText.hasPrefix("Usage: userdb [path/.../ | -f file ]name set field=value field=value...\n"))
    // Missing value on standard input: exit 1, file unchanged.
    #expect(UserdbCommand.run(["userdb", "-f", file, "bob", "set", "systempw"], io: ToolIO.buffered()) == 1)
    #expect(readFile(file) == "# keep me\nbob\tuid=9|home=/h|systempw=x\n")
}

@Test func userdbCommandPathInsideADirectorySource() throws {
    let root = temporaryDirectory()
    mkdir(root + "/etc", 0o755)
    mkdir(root + "/etc/userdb", 0o700)
    let io = ToolIO.buffered(environment: ["COURIER_ROOT": root])
    #expect(UserdbCommand.run(["userdb", "example.test/amy", "set", "home=/amy"], io: io) == 0)
    #expect(readFile(root + "/etc/userdb/example.test") == "amy\thome=/amy\n")
}

@Test func userdbpwShapes() {
    func run(_ options: [String], input: String = "secret\n") -> (Int32, String) {
        let io = ToolIO.buffered(input: Array(input.utf8))
        let status = Userdbpw.run(["userdbpw"] + options, io: io)
        return (status, io.outputText + io.errorText)
    }
    let des = run([])
    #expect(des.0 == 0 && des.1.utf8.count == 14)
    #expect(PasswordVerifier.verify("secret", against: String(des.1.dropLast())))
    #expect(run(["-md5"]).1.hasPrefix("$1$"))
    #expect(run(["-sha512"]).1.hasPrefix("$6$"))
    #expect(run(["-hmac-md5"]).1 == "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56\n")
    #expect(run(["-hmac-sha1"]).1.utf8.count == 81)
    #expect(run(["-hmac-sha256"]).1.utf8.count == 129)
    #expect(run(["-crypt"]) == (1, "userdbpw: invalid argument.\n"))
    #expect(run(["-md5"], input: "").0 == 1)
    let mismatch = ToolIO.buffered(input: Array("a\nb\n".utf8), terminal: true)
    #expect(Userdbpw.run(["userdbpw", "-md5"], io: mismatch) == 1)
    #expect(mismatch.errorText == "Passwords don't match.\n")
}

@Test func pw2userdbConvertsPasswdAndShadow() {
    let passwd = Array("root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob|B,,,:/home/bob:\n#comment\nbad\n".utf8)
    let shadow = Array("root:$6$abc$def:19000:0:99999:7:::\nbob:!:19000::::::\n".utf8)
    #expect(Pw2userdb.convert(passwd: passwd, shadow: shadow, domain: "", reverseUids: true) == [
        "root\tuid=0|gid=0|home=/root|shell=/bin/bash|systempw=$6$abc$def|gecos=root",
        "0=\troot",
        "bob\tuid=1000|gid=1000|home=/home/bob|systempw=!|gecos=Bob.B,,,",
        "1000=\tbob",
    ])
    #expect(Pw2userdb.convert(passwd: passwd, shadow: nil, domain: "example.test", reverseUids: false) == [
        "root@example.test\tuid=0|gid=0|home=/root|shell=/bin/bash|gecos=root",
        "bob@example.test\tuid=1000|gid=1000|home=/home/bob|gecos=Bob.B,,,",
    ])
}
