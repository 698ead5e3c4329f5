#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAPServer
import MaildirCore

/// `courierswiftposted`, the list of messages a user added to a filesystem shared folder
/// (MailboxSession+SharableExpunge), kept safe from what another program puts in the Maildir.
struct SharablePostsTests {
    /// The list of messages a user added to a sharable folder (`courierswiftposted`) is never
    /// written through a symbolic link put in its place.
    @Test func postsListIsNotWrittenThroughASymlink() throws {
        let m = try TemporaryMaildir()
        let victim = m.path + "/victim"
        let fd = open(victim, O_WRONLY | O_CREAT, 0o600)
        #expect(fd >= 0)
        close(fd)
        #expect(symlink(victim, m.path + "/" + MailboxSession.sharablePostsFile) == 0)
        let t = MailboxTranscript(m)
        t.mailbox.notePostedToSharable(["1.2.host"])
        #expect(SystemCall.status(victim)?.st_size == 0)
    }
}
