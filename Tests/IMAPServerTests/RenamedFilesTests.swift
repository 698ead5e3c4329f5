#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import Testing
@testable import IMAP
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

/// FETCH FLAGS written without building the flag list says what the list says.
@Suite struct FlagListWritingTests {
    @Test func everyCombinationOfSystemFlagsAndRecent() {
        let letters: [Character] = ["D", "F", "R", "S", "T"]
        for mask in 0..<(1 << letters.count) {
            var info = ""
            for (bit, letter) in letters.enumerated() where mask & (1 << bit) != 0 { info.append(letter) }
            for recent in [false, true] {
                for keywords in [[], ["$Work", "Later"]] {
                    let m = MailboxSession.Message(uid: 1, fileName: MessageFileName("1.M1P1.host:2," + info),
                                                   recent: recent, keywords: keywords)
                    var fast = ResponseWriter(), list = ResponseWriter()
                    MailboxSession.writeFlagList(of: m, into: &fast)
                    list.flagList(MailboxSession.flags(of: m))
                    #expect(fast.bytes == list.bytes)
                }
            }
        }
    }
}
