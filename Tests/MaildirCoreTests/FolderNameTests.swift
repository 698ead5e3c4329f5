import Testing
@testable import MaildirCore

@Suite struct FolderNameTests {
    // RFC 3501 §5.1.3 examples and the Courier observation of access.md §1.3.
    @Test(arguments: [
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("☺!", "&Jjo-!"),
        ("Hi Mom -☺-!", "Hi Mom -&Jjo--!"),
        ("Résumé", "R&AOk-sum&AOk-"),
        ("A&B", "A&-B"),
        ("&", "&-"),
        ("plain", "plain"),
        ("台北日本語", "&U,BTF2XlZyyKng-"),
        ("𝄞", "&2DTdHg-"),                      // a surrogate pair
        ("tab\tx", "tab&AAk-x"),                // non-printable ASCII is encoded
    ])
    func modifiedUTF7BothWays(unicode: String, encoded: String) {
        #expect(ModifiedUTF7.encode(unicode) == encoded)
        #expect(ModifiedUTF7.decode(Array(encoded.utf8)) == unicode)
    }

    @Test(arguments: [
        "&Jjo!",        // not terminated
        "&Jjo",         // not terminated at the end
        "&AGE-",        // encodes printable "a"
        "&2DQ-",        // a lone high surrogate
        "&3R4-",        // a lone low surrogate
        "&Jj*-",        // bad BASE64 character
        "&Jjp-",        // non-zero leftover bits
        "&-&",          // trailing shift
        "Ré",           // raw 8-bit
        "a\u{01}b",     // raw control
        "&AAAA-",       // too many leftover BASE64 characters
    ])
    func invalidModifiedUTF7IsRejected(encoded: String) {
        #expect(ModifiedUTF7.decode(Array(encoded.utf8)) == nil)
    }

    @Test(arguments: ["Sent", "Sent.2024", "Résumé", "a b", "x-y_z", "&"])
    func validNames(name: String) throws {
        let f = try FolderName(name)
        #expect(f.directoryName == "." + name)
    }

    @Test(arguments: ["", ".", "..", "a..b", ".a", "a.", "a/b", "a\u{01}b", "a\u{7F}", "a\u{85}b",
                      String(repeating: "x", count: 255)])
    func invalidNames(name: String) {
        #expect(throws: MaildirError.invalidFolderName(name)) { try FolderName(name) }
    }

    @Test func longestNameFitsNameMax() throws {
        _ = try FolderName(String(repeating: "x", count: 254))
    }

    @Test func imapNamesMapToFolders() throws {
        #expect(try FolderName.fromIMAP("INBOX") == .inbox)
        #expect(try FolderName.fromIMAP("inbox") == .inbox)
        #expect(try FolderName.fromIMAP("INBOX.R&AOk-sum&AOk-") == .folder(try FolderName("Résumé")))
        #expect(try FolderName.fromIMAP("Inbox.Sent.2024") == .folder(try FolderName("Sent.2024")))
        #expect(try FolderName.fromIMAP("INBOX.Résumé", utf8: true) == .folder(try FolderName("Résumé")))
        #expect(throws: MaildirError.self) { try FolderName.fromIMAP("Foo") }
        #expect(throws: MaildirError.self) { try FolderName.fromIMAP("INBOXfoo") }
        #expect(throws: MaildirError.self) { try FolderName.fromIMAP("INBOX.") }
        #expect(throws: MaildirError.self) { try FolderName.fromIMAP("INBOX.a..b") }
        #expect(throws: MaildirError.self) { try FolderName.fromIMAP("INBOX.a/b") }
        #expect(throws: MaildirError.self) { try FolderName.fromIMAP("INBOX.R&AOk") }
        #expect(try FolderName("Résumé").imapName() == "INBOX.R&AOk-sum&AOk-")
        #expect(try FolderName("Résumé").imapName(utf8: true) == "INBOX.Résumé")
    }

    @Test func hierarchy() throws {
        let f = try FolderName("a.b.c")
        #expect(f.components == ["a", "b", "c"])
        #expect(f.parent == (try FolderName("a.b")))
        #expect(f.isInside(try FolderName("a.b")))
        #expect(!(try FolderName("a.bc")).isInside(try FolderName("a.b")))
        #expect(FolderName.fromDirectoryName(".a.b") == (try FolderName("a.b")))
        #expect(FolderName.fromDirectoryName("cur") == nil)
        #expect(FolderName.fromDirectoryName(".") == nil)
    }

    @Test func createListRenameDeleteFolders() throws {
        let scratch = ScratchDirectory()
        let md = Maildir(path: try scratch.maildir())
        try md.createFolder(try FolderName("a"))
        try md.createFolder(try FolderName("a.b"))
        try md.createFolder(try FolderName("a.b.c"))
        try md.createFolder(try FolderName("ab"))
        try md.createFolder(try FolderName("Résumé"))
        #expect(SystemCall.exists(md.path + "/.a.b/maildirfolder"))
        #expect(names(md.path + "/.a.b") == ["cur", "maildirfolder", "new", "tmp"])
        #expect(throws: MaildirError.alreadyExists(md.path + "/.a")) { try md.createFolder(try FolderName("a")) }
        #expect(md.folders().map(\.name) == ["Résumé", "a", "a.b", "a.b.c", "ab"])

        try deliver("Subject: x\n\nbody\n", to: md.path + "/.a.b")
        try md.renameFolder(try FolderName("a"), to: try FolderName("z.y"))
        #expect(md.folders().map(\.name) == ["Résumé", "ab", "z.y", "z.y.b", "z.y.b.c"])
        #expect(names(md.path + "/.z.y.b/new").count == 1)
        #expect(throws: MaildirError.self) { try md.renameFolder(try FolderName("ab"), to: try FolderName("z.y")) }
        #expect(throws: MaildirError.self) { try md.renameFolder(try FolderName("ab"), to: try FolderName("ab.x")) }
        #expect(throws: MaildirError.self) { try md.renameFolder(try FolderName("nothing"), to: try FolderName("q")) }

        try md.deleteFolder(try FolderName("z.y.b"))
        #expect(md.folders().map(\.name) == ["Résumé", "ab", "z.y", "z.y.b.c"])
        #expect(throws: MaildirError.self) { try md.deleteFolder(try FolderName("z.y.b")) }
    }

    @Test func subscriptionsFile() throws {
        let scratch = ScratchDirectory()
        let md = Maildir(path: try scratch.maildir())
        let subs = Subscriptions(maildir: md)
        #expect(try subs.names() == [])
        try subs.subscribe("INBOX.Sent")
        try subs.subscribe("INBOX.Résumé")
        try subs.subscribe("INBOX.Sent")
        #expect(readText(subs.filePath) == "INBOX.Sent\nINBOX.Résumé\n")
        try subs.unsubscribe("INBOX.Sent")
        #expect(try subs.names() == ["INBOX.Résumé"])
        #expect(Subscriptions.parse(Array("a\r\n\nb\na\n".utf8)) == ["a", "b"])
    }
}
