#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

@Suite struct QuotaTests {
    @Test(arguments: [
        ("5000000S,1000C", 5_000_000, 1000, "5000000S,1000C"),
        ("1000C,500S", 500, 1000, "500S,1000C"),
        ("100S", 100, 0, "100S"),
        ("10C", 0, 10, "10C"),
        ("abc", 0, 0, ""),
        ("0S", 0, 0, ""),
        ("12X,5S", 5, 0, "5S"),
        (" 7S , 3C ", 7, 3, "7S,3C"),
    ])
    func quotaSpecs(text: String, bytes: Int64, messages: Int64, written: String) {
        let q = QuotaSpec(text)
        #expect(q.bytes == bytes && q.messages == messages)
        #expect(q.description == written)
    }

    @Test func deltaLinesAreTwelveColumns() {
        #expect(MaildirSizeFile.deltaLine(QuotaUsage(bytes: 522, messages: 1)) == "         522            1\n")
        #expect(MaildirSizeFile.deltaLine(QuotaUsage(bytes: -168, messages: -1)) == "        -168           -1\n")
        #expect(MaildirSizeFile.rebuilt(quota: QuotaSpec("1000S,10C"), usage: .zero) == "1000S,10C\n           0            0\n")
    }

    @Test func parsingSumsLines() {
        let f = MaildirSizeFile.parse(Array("500S,3C\n         165            3\n-55 -1\n\t10\t1\nbad line\n".utf8))
        #expect(f.quota == QuotaSpec(bytes: 500, messages: 3))
        #expect(f.usage == QuotaUsage(bytes: 120, messages: 3))
        #expect(f.dataLines == 4)
        #expect(!f.needsRecalculation)
        #expect(MaildirSizeFile.parse(Array("1S\n-5 -1\n".utf8)).needsRecalculation)
        let big = MaildirSizeFile.parse(Array(("9S\n" + String(repeating: "1 1\n", count: 1300)).utf8))
        #expect(big.overflowed && big.needsRecalculation && big.quota.bytes == 9)
    }

    @Test(arguments: [
        (QuotaSpec(bytes: 100, messages: 0), QuotaUsage(bytes: 100, messages: 9), false, 100),
        (QuotaSpec(bytes: 100, messages: 0), QuotaUsage(bytes: 101, messages: 0), true, 100),
        (QuotaSpec(bytes: 0, messages: 3), QuotaUsage(bytes: 99999, messages: 3), false, 100),
        (QuotaSpec(bytes: 0, messages: 3), QuotaUsage(bytes: 0, messages: 4), true, 100),
        (QuotaSpec(bytes: 40, messages: 0), QuotaUsage(bytes: 18, messages: 1), false, 45),
        (QuotaSpec(bytes: 1000, messages: 10), QuotaUsage(bytes: 100, messages: 5), false, 50),
        (QuotaSpec(bytes: 30_000_000, messages: 0), QuotaUsage(bytes: 14_000_000, messages: 1), false, 46),
    ])
    func overQuotaAndPercent(quota: QuotaSpec, usage: QuotaUsage, exceeded: Bool, percent: Int) {
        #expect(quota.isExceeded(by: usage) == exceeded)
        #expect(quota.percentUsed(by: usage) == percent)
    }

    @Test func recalculationCountsFoldersButNotTrashOrDeleted() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        let md = Maildir(path: path)
        try md.createFolder(try FolderName("Sub"))
        try md.createFolder(try FolderName("Trash"))
        try deliver("12345\n", to: path)                  // 6 bytes
        try deliver("1234567890\n", to: path + "/.Sub")   // 11
        try deliver("trash\n", to: path + "/.Trash")      // not counted
        writeFile(path + "/cur/1.M1P1.h,S=1000:2,ST", "x") // deleted: not counted
        writeFile(path + "/cur/2.M1P1.h:2,S", "abc")      // no ,S=: stat() size 3
        writeFile(path + "/cur/.hidden", "zzzz")          // dot files are not messages
        try md.quota.setQuota(QuotaSpec("1000S,10C"))
        #expect(readText(path + "/maildirsize") == "1000S,10C\n          20            3\n")
    }

    @Test func folderDeliveryChargesTheParent() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        let md = Maildir(path: path)
        try md.createFolder(try FolderName("Sub"))
        try md.quota.setQuota(QuotaSpec("100S"))
        try deliver("hello\n", to: path + "/.Sub")
        #expect(readText(path + "/maildirsize") == "100S\n           0            0\n           6            1\n")
        #expect(!SystemCall.exists(path + "/.Sub/maildirsize"))
        #expect(MaildirQuota(folderPath: path + "/.Sub").rootPath == path)
    }

    @Test func overQuotaDeliveryIsRefusedAndLeavesNothing() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        try Maildir(path: path).quota.setQuota(QuotaSpec("100S"))
        #expect(throws: MaildirError.quotaExceeded) {
            try deliver(String(repeating: "x", count: 101), to: path)
        }
        #expect(names(path + "/tmp") == [])
        #expect(names(path + "/new") == [])
        #expect(readText(path + "/maildirsize") == "100S\n           0            0\n")
        // Exactly at the limit is within quota.
        try deliver(String(repeating: "x", count: 100), to: path)
    }

    @Test func youngSingleLineFileIsTrustedOldOneIsRecalculated() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        let q = MaildirQuota(folderPath: path)
        // The file claims 90 of 100 bytes, but the maildir is empty.
        writeFile(path + "/maildirsize", "100S\n          90            1\n")
        #expect(try q.check(adding: QuotaUsage(bytes: 20, messages: 1)) == .exceeded)
        #expect(readText(path + "/maildirsize") == "100S\n          90            1\n")
        // 15 minutes later the same check rebuilds the file and succeeds.
        let later = SystemCall.now().seconds + 15 * 60
        #expect(try q.check(adding: QuotaUsage(bytes: 20, messages: 1), now: later) == .within(percent: 20))
        #expect(readText(path + "/maildirsize") == "100S\n           0            0\n")
        // Two data lines: over quota means "recalculate now".
        writeFile(path + "/maildirsize", "100S\n          50            1\n          40            1\n")
        #expect(try q.check(adding: QuotaUsage(bytes: 20, messages: 1)) == .within(percent: 20))
    }

    @Test func bigFileIsRebuilt() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        try deliver("abc\n", to: path)
        writeFile(path + "/maildirsize", "1000S\n" + String(repeating: "           1            0\n", count: 300))
        #expect(try MaildirQuota(folderPath: path).check(adding: .zero) == .within(percent: 0))
        #expect(readText(path + "/maildirsize") == "1000S\n           4            1\n")
    }

    @Test func flagChangesAndExpungeKeepTheQuotaExact() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        let md = Maildir(path: path)
        try md.quota.setQuota(QuotaSpec("1000S"))
        let d = try deliver("hello\n", to: path)
        let snapshot = try FolderScanner(folderPath: path).scan()
        let name = try #require(snapshot.messages.first?.fileName)
        #expect(name.name == d.fileName.name + ":2,")
        let deleted = try md.setFlags(folder: nil, fileName: name, flags: MessageFlags("T"))
        let undeleted = try md.setFlags(folder: nil, fileName: deleted, flags: MessageFlags("S"))
        try md.expunge(folder: nil, fileName: undeleted)
        #expect(readText(path + "/maildirsize") == "1000S\n           0            0\n           6            1\n          -6           -1\n           6            1\n          -6           -1\n")
        #expect(throws: MaildirError.notFound(path + "/cur/" + undeleted.name)) {
            try md.expunge(folder: nil, fileName: undeleted)
        }
        #expect(MaildirQuota(folderPath: path).read()?.file.usage == .zero)
    }

    @Test func noQuotaFileMeansUnlimited() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        #expect(try MaildirQuota(folderPath: path).check(adding: QuotaUsage(bytes: 1 << 40, messages: 1)) == .unlimited)
        try deliver("x\n", to: path)
        #expect(!SystemCall.exists(path + "/maildirsize"))
        // An unlimited spec does not create a quota (maildirmake -q 0S).
        try MaildirQuota(folderPath: path).setQuota(QuotaSpec("0S"))
        #expect(!SystemCall.exists(path + "/maildirsize"))
    }

    @Test func newQuotaArgumentCreatesTheFile() throws {
        let scratch = ScratchDirectory()
        let path = try scratch.maildir()
        let q = MaildirQuota(folderPath: path)
        #expect(try q.check(adding: QuotaUsage(bytes: 5, messages: 1), newQuota: QuotaSpec("10S")) == .within(percent: 50))
        #expect(readText(path + "/maildirsize") == "10S\n           0            0\n")
    }

    /// `read()` takes the size and modification time from one fstat and still reads the whole
    /// file, also when it is bigger than the read limit (then it counts as overflowed).
    @Test func readReturnsContentAndModificationTime() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        writeFile(md + "/maildirsize", "1000S,10C\n         100            2\n          -5           -1\n")
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, md + "/maildirsize", &times, 0) == 0)
        let read = try #require(MaildirQuota(folderPath: md).read())
        #expect(read.modified == 1_700_000_000)
        #expect(read.file.usage == QuotaUsage(bytes: 95, messages: 1))
        #expect(read.file.dataLines == 2)
        writeFile(md + "/maildirsize", "1000S,10C\n" + String(repeating: "           1            1\n", count: 300))
        #expect(try #require(MaildirQuota(folderPath: md).read()).file.overflowed)
    }

    /// `SystemCall.readAll` with a caller's fstat reads the same bytes as without one, and a
    /// stale (too small) size only costs more reads.
    @Test func readAllWithAKnownStatus() throws {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/file"
        let text = String(repeating: "0123456789abcdef\n", count: 3000)
        writeFile(path, text)
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        #expect(try SystemCall.readAll(fd, path: path, status: st) == Array(text.utf8))
        #expect(lseek(fd, 0, SEEK_SET) == 0)
        st.st_size = 5
        #expect(try SystemCall.readAll(fd, path: path, status: st) == Array(text.utf8))
        #expect(lseek(fd, 0, SEEK_SET) == 0)
        #expect(try SystemCall.readAll(fd, path: path, limit: 100, status: st) == Array(text.utf8.prefix(100)))
        // The largest size a file system may report (a sparse file on XFS): no overflow of the
        // extra byte, the limit bounds the buffer.
        #expect(lseek(fd, 0, SEEK_SET) == 0)
        st.st_size = Int.max
        #expect(try SystemCall.readAll(fd, path: path, limit: 100, status: st) == Array(text.utf8.prefix(100)))
    }
}
