#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

/// `sharedindexsplit` and `sharedindexinstall` (access.md §1.7 (A)).
@Suite struct SharedIndexMaintenanceTests {
    static let accounts = "alice\t1\t1\t/home/alice\n# a comment\nbob\t1\t1\t/home/bob\t./Maildir\tsharedgroup=g1,x=y\n"
        + "carol\t1\t1\t/home/carol\t\tfoo=1\nshort\t1\t1\n\nal\t1\t1\t/home/al\t\t\t\n"
        + "dave\t1\t1\t/home/dave # the rest is a comment\tsharedgroup=g2\n"

    func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test func splitByLettersMakesAccountFilesAndGroupLevels() {
        let out = SharedIndexMaintenance.split(Array(Self.accounts.utf8), letters: 2)
        #expect(text(out.appended["indexal"]) == "alice\t1\t1\t/home/alice\nal\t1\t1\t/home/al\n")
        // The options column never reaches the output; an empty maildir column stays.
        #expect(text(out.appended["indexbo"]) == "bob\t1\t1\t/home/bob\t./Maildir\n")
        #expect(text(out.appended["indexca"]) == "carol\t1\t1\t/home/carol\t\n")
        #expect(text(out.appended["indexda"]) == "dave\t1\t1\t/home/dave \n")
        #expect(out.appended["indexsh"] == nil)   // fewer than four fields
        #expect(text(out.replaced["index"]) == "a\t*\tindexa\nb\t*\tindexb\nc\t*\tindexc\nd\t*\tindexd\n")
        #expect(text(out.replaced["indexa"]) == "al\t*\tindexal\n")
        #expect(Set(out.replaced.keys) == ["index", "indexa", "indexb", "indexc", "indexd"])
    }

    @Test func shortNamesArePaddedAndLettersAreCharacters() {
        let out = SharedIndexMaintenance.split(Array("x\t1\t1\t/h\nj\u{FC}rgen\t1\t1\t/j\n".utf8), letters: 3)
        #expect(out.appended["indexx__"] != nil)
        #expect(out.appended["indexj\u{FC}r"] != nil)
        #expect(text(out.replaced["indexx_"]) == "x__\t*\tindexx__\n")
        #expect(text(out.replaced["index"]) == "j\t*\tindexj\nx\t*\tindexx\n")
    }

    @Test func splitBySharedGroup() {
        let out = SharedIndexMaintenance.split(Array(Self.accounts.utf8), letters: 0)
        #expect(text(out.appended["indexg1"]) == "bob\t1\t1\t/home/bob\t./Maildir\n")
        #expect(text(out.appended["index"]) == "alice\t1\t1\t/home/alice\ncarol\t1\t1\t/home/carol\t\nal\t1\t1\t/home/al\ndave\t1\t1\t/home/dave \n")
        #expect(out.replaced.isEmpty)
        #expect(SharedIndexMaintenance.sharedGroup(Array("a=1,sharedgroup=,sharedgroup=b,sharedgroup=c".utf8)) == Array("b".utf8))
        #expect(SharedIndexMaintenance.sharedGroup(Array("xsharedgroup=b".utf8)) == nil)
    }

    @Test func writeAppendsAccountFilesAndReplacesGroupFiles() throws {
        let scratch = ScratchDirectory()
        let first = SharedIndexMaintenance.split(Array("alice\t1\t1\t/a\n".utf8), letters: 1)
        try SharedIndexMaintenance.write(first, to: scratch.path)
        try SharedIndexMaintenance.write(SharedIndexMaintenance.split(Array("amy\t1\t1\t/m\n".utf8), letters: 1), to: scratch.path)
        #expect(text(try SystemCall.readFile(scratch.path + "/indexa")) == "alice\t1\t1\t/a\namy\t1\t1\t/m\n")
        #expect(text(try SystemCall.readFile(scratch.path + "/index")) == "a\t*\tindexa\n")
    }

    @Test func installReplacesTheIndexDirectory() throws {
        let scratch = ScratchDirectory()
        let etc = scratch.path
        #expect(throws: SharedIndexMaintenance.InstallError.newIndexEmpty(etc + "/shared.tmp")) {
            try SharedIndexMaintenance.install(sysconfdir: etc)
        }
        mkdir(etc + "/shared.tmp", 0o755)
        #expect(throws: SharedIndexMaintenance.InstallError.newIndexEmpty(etc + "/shared.tmp")) {
            try SharedIndexMaintenance.install(sysconfdir: etc)
        }
        for (name, body) in [("index", "new"), ("indexa", "a")] {
            try SystemCall.replaceFile(etc + "/shared.tmp/" + name, temporaryPath: etc + "/t", bytes: Array(body.utf8))
        }
        #expect(throws: SharedIndexMaintenance.InstallError.noIndexDirectory(etc + "/shared")) {
            try SharedIndexMaintenance.install(sysconfdir: etc)
        }
        mkdir(etc + "/shared", 0o755)
        for (name, body) in [("index", "old"), ("indexz", "gone"), (".keep", "dot")] {
            try SystemCall.replaceFile(etc + "/shared/" + name, temporaryPath: etc + "/t", bytes: Array(body.utf8))
        }
        try SharedIndexMaintenance.install(sysconfdir: etc)
        #expect(SystemCall.names(in: etc + "/shared").sorted() == [".keep", "index", "indexa"])
        #expect(text(try SystemCall.readFile(etc + "/shared/index")) == "new")
        #expect(SystemCall.names(in: etc + "/shared.tmp").isEmpty)
    }
}
