#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailTools
import MaildirCore

/// deliverquota's copy of standard input into the pending message (`PendingMessage.write(from:knownSize:)`):
/// every byte arrives whatever the size hint says, from a file or a pipe.
@Suite struct DeliverquotaCopyTests {
    /// Bytes 0..<count of a repeating, line-broken pattern (so that a shift would show).
    static func message(_ count: Int) -> [UInt8] {
        (0..<count).map { $0 % 61 == 60 ? UInt8(ascii: "\n") : UInt8(0x21 + $0 % 90) }
    }

    /// Delivers `bytes` through `write(from:knownSize:)` from a regular file (hint `knownSize`) or a pipe
    /// (no hint), and returns what landed in new/.
    static func deliver(_ bytes: [UInt8], throughPipe: Bool, knownSize: Int64?) throws -> [UInt8]? {
        var template = Array("/tmp/deliverquota-copy.XXXXXX".utf8CString)
        let dir = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { try? SystemCall.removeTree(dir) }
        let maildir = dir + "/Maildir"
        try Maildir.create(at: maildir)
        let input: Int32
        if throughPipe {
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            // A writer thread would be needed beyond the pipe's 64 KiB buffer; keep below it.
            try #require(bytes.count < 60_000)
            _ = bytes.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
            close(ends[1])
            input = ends[0]
        } else {
            let path = dir + "/message"
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
            try #require(fd >= 0)
            try SystemCall.writeAll(fd, bytes, path: path)
            try #require(lseek(fd, 0, SEEK_SET) == 0)
            input = fd
        }
        defer { close(input) }
        let pending = try PendingMessage(folderPath: maildir)
        try pending.write(from: input, knownSize: knownSize)
        let delivered = try pending.commit(to: .new, quota: .ignore)
        #expect(delivered.size == Int64(bytes.count))
        return try SystemCall.readFile(delivered.path)
    }

    @Test(arguments: [0, 1, 511, 512, 4_000, 65_535, 65_536, 65_537, 300_000])
    func fileWithItsExactSize(count: Int) throws {
        let bytes = Self.message(count)
        #expect(try Self.deliver(bytes, throughPipe: false, knownSize: Int64(count)) == bytes)
    }

    @Test func sizeHintThatIsTooSmallOnlyMeansMoreReads() throws {
        let bytes = Self.message(200_000)
        #expect(try Self.deliver(bytes, throughPipe: false, knownSize: 10) == bytes)
    }

    @Test(arguments: [0, 17, 50_000])
    func pipeWithoutSize(count: Int) throws {
        let bytes = Self.message(count)
        #expect(try Self.deliver(bytes, throughPipe: true, knownSize: nil) == bytes)
    }
}
