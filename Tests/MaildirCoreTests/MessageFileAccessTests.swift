import Glibc
import Testing
@testable import MaildirCore

@Suite struct MessageFileAccessTests {
    /// A fresh directory under /var/tmp with `mode`.
    static func directory(_ mode: mode_t) -> String {
        var template = Array("/var/tmp/message-access-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(path, mode)
        return path
    }

    static func write(_ path: String, _ text: String, mode: mode_t) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        chmod(path, mode)
    }

    @Test func plainFilesOpenAndSymlinksOnlyToWhatAnyoneCouldRead() {
        let maildir = Self.directory(0o700)
        let hidden = Self.directory(0o700)
        let open = Self.directory(0o755)
        defer { for d in [maildir, hidden, open] { _ = system("rm -rf '\(d)'") } }
        Self.write(maildir + "/own", "own message", mode: 0o600)
        Self.write(hidden + "/secret", "secret", mode: 0o644)      // readable, but its directory is not searchable
        Self.write(open + "/private", "private", mode: 0o600)      // searchable directory, unreadable file
        Self.write(open + "/public", "public message", mode: 0o644)
        symlink(hidden + "/secret", maildir + "/link-secret")
        symlink(open + "/private", maildir + "/link-private")
        symlink(open + "/public", maildir + "/link-public")
        #expect(MessageFileAccess.read(maildir + "/own") == Array("own message".utf8))
        #expect(MessageFileAccess.read(maildir + "/link-secret") == nil)
        #expect(MessageFileAccess.read(maildir + "/link-private") == nil)
        #expect(MessageFileAccess.read(maildir + "/link-public") == Array("public message".utf8))
        #expect(MessageFileAccess.open(maildir + "/missing") == -1)
    }
}
