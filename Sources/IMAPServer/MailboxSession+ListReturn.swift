import IMAP
import MaildirCore

/// The LIST-EXTENDED return options that add untagged answers after a mailbox's `* LIST`:
/// STATUS (RFC 5819 LIST-STATUS) and MYRIGHTS (RFC 8440 LIST-MYRIGHTS), for the user's own
/// mailboxes and for `#shared.` ones alike.
extension MailboxSession {
    /// After the `* LIST` of a selectable, existing mailbox: its `* STATUS` when asked for and
    /// the user may read it (RFC 5819 §2 lets a server leave STATUS out; RFC 4314 §4: STATUS
    /// needs `r`, so LIST must not tell more than STATUS would), then `* MYRIGHTS` (RFC 8440 §3;
    /// a listed mailbox has `l`, enough for MYRIGHTS under RFC 4314 §3.8).
    func writeListExtras(_ name: MailboxName, _ command: ListCommand, rights: ACLRights, into w: inout ResponseWriter) {
        if let items = command.returnStatus, rights.contains(ACLRights.read) {
            writeStatus(name, items, into: &w)
        }
        if command.returnMyRights {
            w.append("* MYRIGHTS ")
            w.mailbox(name.bytes)
            w.space()
            w.string(rights.reportedText)
            w.crlf()
        }
    }
}
