#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Testing
@testable import IMAPServer

/// Finding a message file again after another session (or program) changed its flags.
@Suite struct RenamedFilesTests {
    func touch(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        if fd >= 0 { close(fd) }
    }

    @Test func findsRenamedFilesByMemoByStandardFlagsAndByListing() throws {
        let maildir = try TemporaryMaildir()
        let cur = maildir.path + "/cur/"
        // Renamed by another program with standard flags: found without a listing.
        touch(cur + "100.M1P1.host:2,FS")
        #expect(RenamedFiles.find(baseName: "100.M1P1.host", in: maildir.path)?.name == "100.M1P1.host:2,FS")
        // A letter outside the standard set: found by listing cur/.
        touch(cur + "200.M2P1.host:2,Sa")
        #expect(RenamedFiles.find(baseName: "200.M2P1.host", in: maildir.path)?.name == "200.M2P1.host:2,Sa")
        // Renamed by this process: remembered (and checked against the disk).
        touch(cur + "300.M3P1.host:2,Rb")
        RenamedFiles.shared.note(directory: maildir.path, baseName: "300.M3P1.host", name: "300.M3P1.host:2,Rb")
        #expect(RenamedFiles.find(baseName: "300.M3P1.host", in: maildir.path)?.name == "300.M3P1.host:2,Rb")
        RenamedFiles.shared.note(directory: maildir.path, baseName: "100.M1P1.host", name: "100.M1P1.host:2,gone")
        #expect(RenamedFiles.find(baseName: "100.M1P1.host", in: maildir.path)?.name == "100.M1P1.host:2,FS")
        // Expunged: nothing.
        #expect(RenamedFiles.find(baseName: "400.M4P1.host", in: maildir.path) == nil)
    }
}
