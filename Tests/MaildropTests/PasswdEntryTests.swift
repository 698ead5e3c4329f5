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
}
