@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// Runs command lines through an `IMAPSession` and a `MailboxSession` the way the connection
/// handler does: the session's ENABLE state (IMAP4rev2, UTF8=ACCEPT, CONDSTORE, QRESYNC) goes to
/// the mailbox, a command's early responses come first, and selection changes go back.
struct MailboxTranscript {
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
        case .mailbox(let tagged, let early):
            mailbox.rev2 = session.isRev2
            let (bytes, change) = mailbox.run(tagged, utf8: session.utf8Enabled, enabled: session.enabled)
            switch change {
            case .selected(let name, let readOnly): session.selected(name, readOnly: readOnly)
            case .deselected: session.selected(nil, readOnly: false)
            case .none: break
            }
            return String(decoding: early + bytes, as: UTF8.self)
        default: return "(action)"
        }
    }
}
