#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailTools
import MaildirCore

@Suite struct MaildiraclTests {
    @Test func setDeleteAndRefusals() throws {
        var template = Array("/tmp/maildiracl-test.XXXXXX".utf8CString)
        let dir = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { try? SystemCall.removeTree(dir) }
        let path = dir + "/Maildir"
        try Maildir.create(at: path)
        try Maildir(path: path).createFolder(try FolderName("Sent"))
        func acl(_ file: String) -> String? {
            (try? SystemCall.readFile(path + "/" + file)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(Maildiracl.run(["maildiracl", "-set", path, "INBOX.Sent", "user=bob", "lr"]) == 0)
        #expect(Maildiracl.run(["maildiracl", "-set", path, "INBOX.Sent", "user=bob", "+w"]) == 0)
        #expect(acl(".Sent/courierimapacl") == "owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lrw\n")
        #expect(Maildiracl.run(["maildiracl", "-set", path, "INBOX.Sent", "user=bob", "-rw"]) == 0)
        #expect(acl(".Sent/courierimapacl") == "owner aceilrstwx\nadministrators aceilrstwx\nuser=bob l\n")
        #expect(Maildiracl.run(["maildiracl", "-delete", path, "INBOX.Sent", "user=bob"]) == 0)
        #expect(acl(".Sent/courierimapacl") == "owner aceilrstwx\nadministrators aceilrstwx\n")
        // Refused: the owner loses `a`; a folder outside INBOX; missing arguments.
        #expect(Maildiracl.run(["maildiracl", "-set", path, "INBOX", "owner", "-a"]) == 1)
        #expect(acl("courierimapacl") == nil)
        #expect(Maildiracl.run(["maildiracl", "-list", path, "Sent"]) == 1)
        #expect(Maildiracl.run(["maildiracl", "-set", path, "INBOX"]) == 1)
        #expect(Maildiracl.run(["maildiracl", "-frob", path]) == 1)
        #expect(Maildiracl.run(["maildiracl", "-reset", path]) == 0)
    }
}
