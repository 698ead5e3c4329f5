#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAPServer
import MaildirCore

/// The inotify registry counts each folder's users: a session closing leaves the other
/// sessions of the folder their watch, and a full registry makes room by unwatching the folders
/// nobody uses (before, it stayed full for good once `folderLimit` folders had been opened).
struct FolderWatchLeaseTests {
    static func deliver(_ m: TemporaryMaildir, _ name: String) {
        let path = m.path + "/new/" + name
        let fd = open(path, O_WRONLY | O_CREAT, 0o600)
        close(fd)
    }

    @Test func oneSessionClosingLeavesTheOtherItsWatch() throws {
        let m = try TemporaryMaildir()
        guard let generations = FolderGenerations(folderLimit: 2) else { return } // no inotify here
        var first = generations.watch(m.path)
        #expect(first != nil)
        let second = try #require(generations.watch(m.path))
        #expect(first?.counter.users.load(ordering: .sequentiallyConsistent) == 2)
        first = nil // that session closed
        #expect(second.counter.users.load(ordering: .sequentiallyConsistent) == 1)
        // The registry fills up and makes room: the folder in use keeps its watch.
        let other = try TemporaryMaildir()
        _ = generations.watch(other.path)
        let third = try TemporaryMaildir()
        _ = generations.watch(third.path)
        #expect(generations.isCurrent(second))
        Self.deliver(m, "1.M1P1.host")
        #expect(!generations.isCurrent(second))
    }

    @Test func aFullRegistryUnwatchesIdleFolders() throws {
        guard let generations = FolderGenerations(folderLimit: 2) else { return }
        let a = try TemporaryMaildir()
        let b = try TemporaryMaildir()
        let c = try TemporaryMaildir()
        let d = try TemporaryMaildir()
        let held = try #require(generations.watch(a.path))
        do {
            _ = try #require(generations.watch(b.path)) // opened, then closed
        }
        #expect(generations.watchedFolderCount == 2)
        let heldC = try #require(generations.watch(c.path)) // b's room
        #expect(generations.watchedFolderCount == 2)
        #expect(generations.watch(d.path) == nil) // a and c are in use
        // b is no longer counted: a change there moves nothing; a and c still count theirs.
        Self.deliver(b, "1.M1P1.host")
        #expect(generations.isCurrent(held) && generations.isCurrent(heldC))
        Self.deliver(c, "2.M2P2.host")
        #expect(!generations.isCurrent(heldC))
        #expect(generations.isCurrent(held))
    }
}
