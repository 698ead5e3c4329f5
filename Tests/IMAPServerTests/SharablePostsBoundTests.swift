#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAPServer
import MaildirCore

/// `courierswiftposted` stays bounded (names of files gone from the sharable folder are
/// pruned) and what another program writes into it (junk, huge lines, a FIFO) does no harm.
struct SharablePostsBoundTests {
    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = try? SystemCall.writeAll(fd, bytes, path: path)
        close(fd)
    }

    static func touch(_ path: String) { write(path, []) }

    /// Junk lines are not taken as names: only a plausible base name could match a message.
    @Test func junkLinesAreIgnored() throws {
        let m = try TemporaryMaildir()
        var junk = Array("1.M1P1.host\n../../etc/passwd\n.hidden\nwith:2,S\n\0nul\n".utf8)
        junk += [UInt8](repeating: UInt8(ascii: "x"), count: 100_000) + [10]
        junk += Array("2.M2P2.host\nbad\u{7}bell\n".utf8)
        Self.write(m.path + "/" + MailboxSession.sharablePostsFile, junk)
        let t = MailboxTranscript(m)
        #expect(t.mailbox.postedToSharable() == ["1.M1P1.host", "2.M2P2.host"])
    }

    /// A file larger than the read limit is read in part (the cut line left out), not whole.
    @Test func oversizedListIsReadInPart() throws {
        let m = try TemporaryMaildir()
        var bytes = Array("first.M1P1.host\n".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "y"), count: SharablePosts.readLimit)
        bytes += Array("\nlast.M9P9.host\n".utf8)
        Self.write(m.path + "/" + SharablePosts.fileName, bytes)
        #expect(SharablePosts.read(folderPath: m.path) == ["first.M1P1.host"])
    }

    /// Growing past 64 KiB prunes the list to the names still in the sharable folder.
    @Test func appendPrunesNamesOfRemovedFiles() throws {
        let local = try TemporaryMaildir()
        let remote = try TemporaryMaildir()
        Self.touch(remote.path + "/cur/100.M1P1.host:2,")
        Self.touch(remote.path + "/new/200.M2P2.host")
        var stale: [String] = []
        var size = 0
        while size < SharablePosts.pruneFrom - 100 {
            let name = "\(stale.count).M\(stale.count)P7.gone.example"
            stale.append(name)
            size += name.utf8.count + 1
        }
        SharablePosts.append(stale + ["100.M1P1.host"], folderPath: local.path, remote: remote.path)
        #expect(SystemCall.status(local.path + "/" + SharablePosts.fileName)?.st_size ?? 0 >= off_t(SharablePosts.pruneFrom) - 100)
        SharablePosts.append(["200.M2P2.host", String(repeating: "z", count: 200)], folderPath: local.path, remote: remote.path)
        let kept = SharablePosts.read(folderPath: local.path)
        #expect(kept == ["100.M1P1.host", "200.M2P2.host"])
        #expect(SystemCall.status(local.path + "/" + SharablePosts.fileName)?.st_size == 28)
        // Appends go on after a prune.
        SharablePosts.append(["300.M3P3.host"], folderPath: local.path, remote: remote.path)
        #expect(SharablePosts.read(folderPath: local.path).contains("300.M3P3.host"))
    }

    @Test func pruningPoints() {
        #expect(!SharablePosts.crossesPruningPoint(0, 1000))
        #expect(SharablePosts.crossesPruningPoint(65_000, 65_600))
        #expect(!SharablePosts.crossesPruningPoint(65_600, 70_000))
        #expect(SharablePosts.crossesPruningPoint(131_000, 131_100))
        #expect(!SharablePosts.crossesPruningPoint(131_100, 200_000))
    }

    /// A FIFO put in the list's place neither blocks a read nor an append.
    @Test func fifoInPlaceOfTheListDoesNotBlock() throws {
        let m = try TemporaryMaildir()
        #expect(mkfifo(m.path + "/" + SharablePosts.fileName, 0o600) == 0)
        #expect(SharablePosts.read(folderPath: m.path).isEmpty)
        SharablePosts.append(["1.M1P1.host"], folderPath: m.path, remote: nil)
        #expect(SharablePosts.read(folderPath: m.path).isEmpty)
    }
}
