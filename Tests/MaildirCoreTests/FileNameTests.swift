import Testing
@testable import MaildirCore

@Suite struct FileNameTests {
    @Test func temporaryAndFinalNamesFollowCourier() {
        let n = UniqueName(seconds: 1795709016, microseconds: 245843, pid: 14698, host: "vm", size: 168)
        #expect(n.temporaryName == "1795709016.M245843P14698.vm,S=168")
        #expect(n.finalName(device: 0xFE00, inode: 0xF869DE)
                == "1795709016.M245843P14698V000000000000FE00I0000000000F869DE.vm,S=168")
    }

    @Test func uniqPartFollowsTheInode() {
        let n = UniqueName(seconds: 1795709052, microseconds: 567056, pid: 29898, uniq: "0", host: "vm", size: 168)
        #expect(n.finalName(device: 0xFE00, inode: 0xF86C5A)
                == "1795709052.M567056P29898V000000000000FE00I0000000000F86C5A_0.vm,S=168")
        #expect(n.temporaryName == "1795709052.M567056P29898_0.vm,S=168")
    }

    @Test func zeroSizeHasNoSizeField() {
        let n = UniqueName(seconds: 1, microseconds: 2, pid: 3, host: "h", size: 0)
        #expect(n.temporaryName == "1.M2P3.h")
    }

    @Test(arguments: [
        ("mail.example.org", "mail.example.org"),
        ("a/b", "a\\057b"),
        ("a:b", "a\\072b"),
        ("", "localhost"),
    ])
    func hostNamesAreEscaped(host: String, expected: String) {
        #expect(UniqueName.escapeHost(host) == expected)
    }

    @Test func partsOfAFileName() {
        let f = MessageFileName("1795709016.M245843P14698V000000000000FE00I0000000000F869DE.vm,S=168:2,FS")
        #expect(f.baseName == "1795709016.M245843P14698V000000000000FE00I0000000000F869DE.vm,S=168")
        #expect(f.info == "2,FS")
        #expect(f.flags == MessageFlags("FS"))
        #expect(f.sizeHint == 168)
        #expect(f.countsTowardQuota)
    }

    @Test(arguments: [
        ("1.M2P3.host", nil as Int64?),
        ("1.M2P3.host,S=42", 42),
        ("1.M2P3.host,S=42,W=44:2,S", 42),
        ("1.M2P3.host,S=1,S=7:2,", 7),          // the last one before the info part
        ("1.M2P3.host:2,,S=9", nil),             // after ':' is not the name
        ("dir,S=5/1.M2P3.host", nil),            // only the last path component
        ("1.M2P3.host,S=", 0),
        ("1.M2P3.host,S=99999999999999999999999", nil),
    ])
    func sizeHints(name: String, size: Int64?) {
        #expect(MessageFileName.sizeHint(in: Array(name.utf8)) == size)
    }

    @Test func virtualSizeIsToleratedAndReadable() {
        let f = MessageFileName("1.M2P3.host,S=100,W=104:2,S")
        #expect(f.sizeHint == 100)
        #expect(f.virtualSizeHint == 104)
        #expect(f.baseName == "1.M2P3.host,S=100,W=104")
    }

    @Test(arguments: [
        ("a:2,", true), ("a:2,S", true), ("a:2,ST", false), ("a:2,T", false),
        ("a:2,aT", true),   // Courier stops at the first lower-case letter
        ("a", true), ("a:1,T", true),
    ])
    func quotaCounting(name: String, counts: Bool) {
        #expect(MessageFileName(name).countsTowardQuota == counts)
    }

    @Test func oldStyleNamesAreOpaque() {
        let f = MessageFileName("1234.5678.host")
        #expect(f.baseName == "1234.5678.host")
        #expect(f.flags == nil)
        #expect(f.sizeHint == nil)
    }

    @Test func withFlagsReplacesTheInfo() {
        let f = MessageFileName("x.host,S=5:2,S")
        #expect(f.withFlags(MessageFlags("TS")).name == "x.host,S=5:2,ST")
        #expect(MessageFileName("x.host").withFlags(MessageFlags()).name == "x.host:2,")
    }

    @Test func folderScanOrderIsNumericFirst() {
        #expect(FolderScanner.fileNameOrder("999.M1P1.h", "1000.M1P1.h"))
        #expect(FolderScanner.fileNameOrder("1000.M1P1.h:2,S", "1000.M2P1.h"))
        #expect(!FolderScanner.fileNameOrder("1000.M2P1.h", "1000.M1P1.h:2,"))
    }
}
