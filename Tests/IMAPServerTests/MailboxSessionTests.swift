#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// A fresh Maildir++ in a temporary directory, removed at the end.
final class TemporaryMaildir {
    let path: String

    init() throws {
        var template = Array("/tmp/imap-test-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let dir else { throw MaildirError.notFound("mkdtemp") }
        path = String(cString: dir) + "/Maildir"
        try Maildir.create(at: path)
    }

    deinit {
        let parent = String(path.dropLast("/Maildir".count))
        _ = system("rm -rf '\(parent)'")
    }

    /// Delivers a message into new/ as the local delivery agent would.
    ///
    /// UIDs follow Courier's name order, and two deliveries in one second can sort the other way
    /// round (`M99376` after `M100614`): the microseconds are zero-padded here so that the
    /// tests' messages keep their delivery order.
    func deliver(_ text: String, folder: String? = nil) throws {
        let dir = folder.map { path + "/." + $0 } ?? path
        let pending = try PendingMessage(folderPath: dir)
        try pending.write(Array(text.utf8))
        let delivered = try pending.commit()
        let name = delivered.path.split(separator: "/").last.map(String.init) ?? ""
        guard let m = name.firstIndex(of: "M"), let p = name[m...].firstIndex(of: "P"),
              name[name.index(after: m)..<p].allSatisfy(\.isNumber) else { return }
        let micros = String(name[name.index(after: m)..<p])
        let padded = String(repeating: "0", count: max(0, 6 - micros.count)) + micros
        let renamed = String(name[..<m]) + "M" + padded + String(name[p...])
        guard renamed != name else { return }
        let directory = String(delivered.path.dropLast(name.count))
        _ = rename(delivered.path, directory + renamed)
    }
}

/// Runs commands against a MailboxSession the way the connection handler does.
struct StoreTranscript {
    let mailbox: MailboxSession
    var session = IMAPSession(configuration: IMAPSessionConfiguration())
    /// `onEventLoop`: the thread pool's answer when the event loop could not give one.
    var poolAnswer: String?

    init(_ maildir: TemporaryMaildir, options: MailboxOptions = MailboxOptions()) {
        mailbox = MailboxSession(maildirPath: maildir.path, user: "u", options: options)
        _ = session.receive(command: Array("0 LOGIN u p".utf8))
        _ = session.loginFinished(tag: Array("0".utf8), user: "u")
    }

    /// The full response text of one command line.
    mutating func run(_ line: String) -> String {
        switch session.receive(command: Array(line.utf8)) {
        case .send(let bytes), .sendAndClose(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .mailbox(let tagged, _):
            let (bytes, change) = mailbox.run(tagged, utf8: false)
            switch change {
            case .selected(let name, let readOnly): session.selected(name, readOnly: readOnly)
            case .deselected: session.selected(nil, readOnly: false)
            case .none: break
            }
            return String(decoding: bytes, as: UTF8.self)
        default: return "(action)"
        }
    }
}

let sample = "From: Ann <ann@example.test>\nTo: u@example.test\nSubject: Hi\nDate: Mon, 2 Feb 2026 10:00:00 +0100\n\nline 1\nline 2\n"

@Suite struct MailboxSessionTests {
    @Test func selectReportsCountsAndUIDs() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        try m.deliver(sample)
        var t = StoreTranscript(m)
        let text = t.run("a SELECT INBOX")
        #expect(text.contains("* 2 EXISTS\r\n* 2 RECENT\r\n"))
        #expect(text.contains("* OK [UIDNEXT 3] "))
        #expect(text.hasSuffix("a OK [READ-WRITE] Ok\r\n"))
        #expect(t.run("b UID SEARCH ALL") == "* SEARCH 1 2\r\nb OK SEARCH done.\r\n")
        #expect(t.run("c SELECT INBOX.Nope").hasSuffix("c NO [NONEXISTENT] Mailbox does not exist, or must be subscribed to.\r\n"))
        #expect(t.session.state == .authenticated(user: "u"))
    }

    @Test func fetchSizesAndSections() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        var t = StoreTranscript(m)
        _ = t.run("a SELECT INBOX")
        let crlfSize = sample.utf8.count + sample.utf8.filter { $0 == 10 }.count
        #expect(t.run("b FETCH 1 (RFC822.SIZE)") == "* 1 FETCH (RFC822.SIZE \(crlfSize))\r\nb OK FETCH completed.\r\n")
        #expect(t.run("c FETCH 1 (BODY.PEEK[TEXT])") == "* 1 FETCH (BODY[TEXT] {16}\r\nline 1\r\nline 2\r\n)\r\nc OK FETCH completed.\r\n")
        #expect(t.run("d FETCH 1 (BODY[HEADER.FIELDS (subject)])")
                == "* 1 FETCH (BODY[HEADER.FIELDS (\"SUBJECT\")] {15}\r\nSubject: Hi\r\n\r\n FLAGS (\\Seen \\Recent))\r\nd OK FETCH completed.\r\n")
        #expect(t.run("e FETCH 2 FLAGS").hasPrefix("e BAD "))
    }

    @Test func storeExpungeAndASecondSession() throws {
        let m = try TemporaryMaildir()
        for _ in 0..<3 { try m.deliver(sample) }
        var a = StoreTranscript(m)
        var b = StoreTranscript(m)
        _ = a.run("a SELECT INBOX")
        _ = b.run("a SELECT INBOX")
        #expect(a.run("b STORE 2 +FLAGS (\\Deleted $Work)").contains("* 2 FETCH (FLAGS (\\Deleted \\Recent $Work))"))
        #expect(a.run("c EXPUNGE") == "* 2 EXPUNGE\r\nc OK EXPUNGE completed\r\n")
        // The other session learns about it at NOOP, never during FETCH (RFC 3501 §7.4.1).
        #expect(!b.run("d FETCH 1:* (UID)").contains("EXPUNGE"))
        let noop = b.run("e NOOP")
        #expect(noop.contains("* 2 EXPUNGE\r\n"))
        #expect(noop.hasSuffix("e OK NOOP completed\r\n"))
        try m.deliver(sample)
        #expect(b.run("f NOOP").contains("* 3 EXISTS\r\n"))
        #expect(b.run("g UID SEARCH ALL") == "* SEARCH 1 3 4\r\ng OK SEARCH done.\r\n")
    }

    @Test func appendCopyMoveWithUIDPLUS() throws {
        let m = try TemporaryMaildir()
        var t = StoreTranscript(m)
        #expect(t.run("a CREATE INBOX.Archive") == "a OK \"INBOX.Archive\" created.\r\n")
        let append = t.run("b APPEND INBOX (\\Seen) {14+}\r\nSubject: x\r\n\r\n")
        #expect(append.contains("[APPENDUID ") && append.hasSuffix(" 1] APPEND Ok.\r\n"))
        _ = t.run("c SELECT INBOX")
        #expect(t.run("d COPY 1 INBOX.Archive").contains(" 1 1] COPY completed.\r\n"))
        let move = t.run("e UID MOVE 1 INBOX.Archive")
        #expect(move.contains("* OK [COPYUID ") && move.contains("* 1 EXPUNGE\r\ne OK MOVE completed.\r\n"))
        #expect(t.run("f STATUS INBOX.Archive (MESSAGES UNSEEN)") == "* STATUS \"INBOX.Archive\" (MESSAGES 2 UNSEEN 0)\r\nf OK STATUS Completed.\r\n")
        #expect(t.run("g COPY 1 INBOX.Missing").hasPrefix("g BAD "))  // the INBOX is empty now
    }

    @Test func namesNeverLeaveTheMaildir() throws {
        let m = try TemporaryMaildir()
        var t = StoreTranscript(m)
        for name in ["INBOX/../../x", "INBOX...", "../y", "INBOX..z", "Other", "INBOX.a/b"] {
            #expect(t.run("a CREATE \"\(name)\"").hasPrefix("a NO "), "\(name)")
        }
        #expect(t.run("b DELETE INBOX") == "b NO [CANNOT] Cannot delete this folder.\r\n")
    }

    @Test func listAndSubscriptions() throws {
        let m = try TemporaryMaildir()
        var t = StoreTranscript(m)
        _ = t.run("a CREATE INBOX.Sent")
        _ = t.run("a CREATE INBOX.a.b")
        let list = t.run("b LIST \"\" *")
        #expect(list.contains("* LIST (\\HasChildren) \".\" \"INBOX\"\r\n"))
        #expect(list.contains("* LIST (\\HasNoChildren \\Sent) \".\" \"INBOX.Sent\"\r\n"))
        #expect(list.contains("* LIST (\\Noselect \\HasChildren) \".\" \"INBOX.a\"\r\n"))
        #expect(t.run("c LIST \"\" INBOX.%") .contains("\"INBOX.a\"") )
        #expect(!t.run("c LIST \"\" INBOX.%").contains("\"INBOX.a.b\""))
        _ = t.run("d SUBSCRIBE INBOX.Sent")
        #expect(t.run("e LSUB \"\" *") == "* LSUB (\\HasNoChildren \\Sent) \".\" \"INBOX.Sent\"\r\ne OK LSUB completed\r\n")
    }

    @Test func expungeMovesToTrashWhenConfigured() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        try m.deliver(sample)
        var options = MailboxOptions()
        options.moveExpungedToTrash = true
        var t = StoreTranscript(m, options: options)
        _ = t.run("a SELECT INBOX")
        _ = t.run("b STORE 1 +FLAGS (\\Deleted)")
        #expect(t.run("c EXPUNGE") == "* 1 EXPUNGE\r\nc OK EXPUNGE completed\r\n")
        #expect(t.run("d STATUS INBOX.Trash (MESSAGES)") == "* STATUS \"INBOX.Trash\" (MESSAGES 1)\r\nd OK STATUS Completed.\r\n")
        // In Trash itself EXPUNGE removes for good.
        _ = t.run("e SELECT INBOX.Trash")
        let flags = t.run("f FETCH 1 FLAGS")
        #expect(flags.hasPrefix("* 1 FETCH (FLAGS (") && !flags.contains("\\Deleted"))  // the T flag stays behind
        _ = t.run("g STORE 1 +FLAGS (\\Deleted)")
        _ = t.run("h EXPUNGE")
        #expect(t.run("i STATUS INBOX.Trash (MESSAGES)").hasPrefix("* STATUS \"INBOX.Trash\" (MESSAGES 0)"))
    }

    @Test func keywordsOffAreNotStored() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        var options = MailboxOptions()
        options.keywords = false
        var t = StoreTranscript(m, options: options)
        let select = t.run("a SELECT INBOX")
        #expect(select.contains("[PERMANENTFLAGS (\\Draft \\Answered \\Flagged \\Deleted \\Seen)] Limited"))
        #expect(t.run("b STORE 1 +FLAGS ($Junk \\Flagged)").contains("FLAGS (\\Flagged \\Recent)"))
    }
}
