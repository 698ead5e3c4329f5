#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MaildirCore

/// The system-call cuts of a delivery (Docs/benchmarks.md, issue 3 "deliverquota"): each keeps
/// what it skips provably unneeded, and these tests check the cases where it would not be.
@Suite struct DeliverySyscallTests {
    /// A quota reading is reused only while `maildirsize` is the same file with the same content.
    @Test func quotaReadingIsReusedOnlyWhileTheFileIsUnchanged() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let quota = MaildirQuota(folderPath: md)
        #expect(quota.reading() == nil)
        writeFile(md + "/maildirsize", "100000S,100C\n         100            1\n")
        let first = try #require(quota.reading())
        #expect(first.file.usage == QuotaUsage(bytes: 100, messages: 1))
        // Unchanged: the same reading back.
        #expect(quota.reading(unlessUnchanged: first) == first)
        // Appended to (as another deliverer does): read again, the new line counted.
        try quota.add(QuotaUsage(bytes: 50, messages: 1))
        let second = try #require(quota.reading(unlessUnchanged: first))
        #expect(second.file.usage == QuotaUsage(bytes: 150, messages: 2))
        // Replaced through tmp/ (a recalculation): read again.
        try quota.recalculate(quota: QuotaSpec("100000S,100C"))
        let third = try #require(quota.reading(unlessUnchanged: second))
        #expect(third.file.usage == .zero && third.file.dataLines == 1)
        // Removed: no quota.
        unlink(md + "/maildirsize")
        #expect(quota.reading(unlessUnchanged: third) == nil)
    }

    /// A delivery handed a stale reading still decides on the file as it is under the lock.
    @Test func staleReadingDoesNotLetAnOverQuotaMessageIn() throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let quota = MaildirQuota(folderPath: md)
        writeFile(md + "/maildirsize", "1000S\n           0            0\n")
        let early = try #require(quota.reading())
        // Someone else fills the quota after our early look (a real message: an over-quota
        // answer makes the file be recalculated from the messages, as Courier does).
        let other = try PendingMessage(folderPath: md)
        try other.write(Array(String(repeating: "o", count: 990).utf8))
        _ = try other.commit(to: .new, quota: .enforce(), quotaPolicy: quota)
        let pending = try PendingMessage(folderPath: md)
        try pending.write(Array(String(repeating: "x", count: 100).utf8))
        #expect(throws: MaildirError.quotaExceeded) {
            _ = try pending.commit(to: .new, quota: .enforce(), quotaPolicy: quota, quotaReading: early)
        }
        #expect(names(md + "/new").count == 1 && names(md + "/tmp").isEmpty)
        // And a fresh reading lets a message that fits in, counted once.
        let fits = try PendingMessage(folderPath: md)
        try fits.write(Array("y\n".utf8))
        _ = try fits.commit(to: .new, quota: .enforce(), quotaPolicy: quota, quotaReading: quota.reading())
        #expect(names(md + "/new").count == 2)
        #expect(quota.read()?.file.usage == QuotaUsage(bytes: 992, messages: 2))
    }

    /// readAll stops at a short read of a regular file's fstat size, and still reads a file
    /// that is longer than the buffer or empty.
    @Test(arguments: [0, 1, 21, 5119, 5120, 70000])
    func readAllReadsWholeRegularFiles(size: Int) throws {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/f"
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        try SystemCall.writeAll(fd, bytes, path: path)
        lseek(fd, 0, SEEK_SET)
        #expect(try SystemCall.readAll(fd, path: path) == bytes)
        #expect(try SystemCall.readFile(path, limit: 5120) == Array(bytes.prefix(5120)))
    }

    /// A message copied from a regular file of known size is copied whole, from its offset.
    @Test(arguments: [1, 3502, 65536, 65537, 200_000])
    func copyFromRegularFileStopsAtItsSize(size: Int) throws {
        let scratch = ScratchDirectory()
        let md = try scratch.maildir()
        let source = scratch.path + "/message"
        let bytes = (0..<(size + 7)).map { UInt8(truncatingIfNeeded: ($0 * 7) % 253) }
        let fd = open(source, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        try SystemCall.writeAll(fd, bytes, path: source)
        lseek(fd, 7, SEEK_SET)   // deliverquota's standard input may be past its start
        let pending = try PendingMessage(folderPath: md)
        try pending.write(from: fd, knownSize: Int64(size))
        let delivered = try pending.commit(to: .new, quota: .ignore)
        #expect(delivered.size == Int64(size))
        #expect(try SystemCall.readFile(delivered.path) == Array(bytes[7...]))
    }
}
