import MaildirCore
import Testing
@testable import Maildir

@Suite struct MailboxNameTests {
    @Test func inboxAndFolders() throws {
        #expect(try MailboxName(imap: "INBOX") == .inbox)
        #expect(try MailboxName(imap: "inbox") == .inbox)
        #expect(try MailboxName(imap: "INBOX.Sent.2024") == MailboxName(folder: "Sent.2024"))
        #expect(try MailboxName(folder: "Sent.2024").imapName() == "INBOX.Sent.2024")
    }

    @Test func modifiedUTF7MapsToUTF8OnDisk() throws {
        let name = try MailboxName(imap: "INBOX.R&AOk-sum&AOk-")
        #expect(name.diskName == "Résumé")
        #expect(name.imapName() == "INBOX.R&AOk-sum&AOk-")
        #expect(name.imapName(utf8: true) == "INBOX.Résumé")
        #expect(try MailboxName(imap: "INBOX.Résumé", utf8: true) == name)
    }

    @Test(arguments: ["Foo", "INBOX..x", "INBOX.a..b", "INBOX.a/b", "INBOX.../x", "INBOX.a\u{01}b",
                      "INBOX.", "INBOX.x.", "INBOX.&Jjo", "INBOXX",
                      "INBOX." + String(repeating: "a", count: 300),
                      "INBOX." + String(repeating: "b", count: 2000)])
    func hostileNamesAreRefused(_ name: String) {
        #expect(throws: MaildirError.self) { try MailboxName(imap: name) }
    }

    @Test func errorMapping() {
        #expect(MailStoreError(.invalidFolderName("x")) == .invalidName("x"))
        #expect(MailStoreError(.quotaExceeded) == .quotaExceeded)
        #expect(MailStoreError(.system(operation: "write", path: "p", errno: 28)).isOutOfSpace)
        #expect(MailStoreError(.system(operation: "write", path: "p", errno: 28)).isTemporary)
    }

    @Test func systemFlagsRoundTripAndKeepUnknownLetters() {
        let letters = MessageFlags("FSa")
        let flags = SystemFlags(letters)
        #expect(flags == [.flagged, .seen])
        #expect(flags.imapNames == ["\\Flagged", "\\Seen"])
        let changed = flags.union(.deleted).subtracting(.flagged).applied(to: letters)
        #expect(changed.description == "STa")
        #expect(SystemFlags(imapName: "\\DRAFT") == .draft)
        #expect(SystemFlags(imapName: "$Junk") == nil)
    }

    @Test func changesBetweenSnapshots() {
        func m(_ uid: UInt32, _ f: SystemFlags = [], _ k: [String] = []) -> MessageInfo {
            MessageInfo(uid: uid, fileName: "x\(uid)", flags: f, keywords: k, size: 1, internalDate: 0, isRecent: false)
        }
        let a = MailboxSnapshot(uidValidity: 5, uidNext: 5, messages: [m(1), m(2), m(3), m(4)])
        let b = MailboxSnapshot(uidValidity: 5, uidNext: 7, messages: [m(1), m(3, .seen), m(4, [], ["$Junk"]), m(6)])
        let c = MailboxChanges.between(a, b)
        #expect(c.expunged == [2])
        #expect(c.added == [6])
        #expect(c.flagsChanged == [3, 4])
        #expect(!c.uidValidityChanged)
        let d = MailboxChanges.between(a, MailboxSnapshot(uidValidity: 6, uidNext: 2, messages: [m(1)]))
        #expect(d.uidValidityChanged && d.expunged == [1, 2, 3, 4] && d.added == [1])
        #expect(b.index(ofUID: 4) == 2 && b.index(ofUID: 5) == nil)
    }
}
