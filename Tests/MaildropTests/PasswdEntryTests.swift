#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Maildrop

@Suite struct PasswdEntryTests {
    @Test func parsesPasswdLinesAndSkipsBadOnes() {
        let text = "root:x:0:0:root:/root:/bin/bash\n+nis::::::\nbroken:x:abc:0::/:/bin/sh\nshort:x:1:1\n"
            + "mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\nempty:x:9:9::/home/e:\n"
        let entries = PasswdEntry.parse(Array(text.utf8))
        #expect(entries.map(\.name) == ["root", "mail", "empty"])
        #expect(entries[1].uid == 8 && entries[1].gid == 8 && entries[1].home == "/var/mail")
        #expect(entries[1].shell == "/usr/sbin/nologin")
        #expect(entries[2].shell.isEmpty)
    }

    @Test func unknownNamesAreNil() {
        #expect(PasswdEntry(name: "no-such-user-here") == nil)
        #expect(PasswdEntry(name: "") == nil)
        #expect(PasswdEntry(name: "root")?.uid == 0)
    }

    /// The same entries as glibc's own reader of the file format (fgetpwent: the parser of the
    /// files module behind getpwnam), for ordinary lines and odd ones; only the NIS `+`/`-`
    /// entries are left out on purpose.
    @Test func sameEntriesAsGlibc() throws {
        let text = "root:x:0:0:root:/root:/bin/bash\n#c:x:5:5::/c:/bin/sh\n  lead:x:6:6::/l:/bin/sh\n"
            + "six:x:7:7::/s\nextra:x:8:8::/e:/bin/sh:more\ncr:x:9:9::/cr:/bin/sh\r\n\nneg:x:-1:3::/n:/s\n"
            + "big:x:4294967296:3::/b:/s\nsp:x: 10:10::/sp:/s\nhex:x:0x10:1::/h:/s\nempty:x::1::/e:/s\n"
            + "ts:x:1:1::/h:/bin/sh  \nus:x:2 :2::/h:/s\n\tt2:x:4:4::/h:/s\nnm:x:5\n+nis::::::\n-minus:x:7:7::/h:/s\n"
            + "uidsp:x:+9:9::/h:/s\nhome:x:10:10::  /h  :/s\nlast:x:11:11::/h:/s"
        let path = "/tmp/passwd-entry-test-\(getpid())"
        defer { unlink(path) }
        let file = try #require(fopen(path, "w"))
        fputs(text, file)
        fclose(file)
        let reader = try #require(fopen(path, "r"))
        defer { fclose(reader) }
        var glibc: [String] = []
        while let p = fgetpwent(reader) {
            let e = p.pointee
            let name = String(cString: e.pw_name)
            if name.hasPrefix("+") || name.hasPrefix("-") { continue }
            glibc.append("\(name)|\(e.pw_uid)|\(e.pw_gid)|\(String(cString: e.pw_dir))|\(String(cString: e.pw_shell))")
        }
        let ours = PasswdEntry.parse(Array(text.utf8)).map { "\($0.name)|\($0.uid)|\($0.gid)|\($0.home)|\($0.shell)" }
        #expect(ours == glibc)
        #expect(ours.count == 11)
    }
}

/// `-d USER`: an account database that cannot answer defers the mail instead of bouncing it.
@Suite struct MaildropLookupTroubleTests {
    /// An authdaemonrc that is there but unreadable (here: a directory) is a temporary
    /// failure for a name passwd does not know; a passwd user is still found.
    @Test func unreadableAuthdaemonrcIsTemporary() {
        let dir = scratchDirectory()
        defer { removeTree(dir) }
        mkdir(dir + "/etc", 0o755)
        mkdir(dir + "/etc/authdaemonrc", 0o755)
        let environment = ["COURIER_ROOT": dir]
        #expect(throws: MaildropTool.LookupTrouble.self) {
            _ = try MaildropTool.lookupUser("no-such-user-here", environment: environment)
        }
        #expect((try? MaildropTool.lookupUser("root", environment: environment))??.uid == 0)
        // Without the file (the defaults): an unknown name is unknown.
        rmdir(dir + "/etc/authdaemonrc")
        do throws(MaildropTool.LookupTrouble) {
            #expect(try MaildropTool.lookupUser("no-such-user-here", environment: environment) == nil)
        } catch {
            Issue.record("no authdaemonrc: the defaults answer, no trouble")
        }
    }
}
