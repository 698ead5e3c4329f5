import IMAP
import MaildirCore

/// What changes when a client has enabled IMAP4rev2 (RFC 9051 §6.3.1, Appendix E): no `\Recent`
/// flag and no RECENT response (§2.3.2), SEARCH answered with ESEARCH (§6.4.4), and SELECT /
/// EXAMINE telling the mailbox's LIST response (§6.3.2).
extension MailboxSession {
    /// RFC 9051 §6.4.4: SEARCH without RETURN means RETURN (ALL) for an IMAP4rev2 client.
    static let returnAll: SearchReturn = {
        var options = SearchReturn()
        options.all = true
        return options
    }()

    /// Takes `\Recent` off every message: an IMAP4rev2 session has no such flag.
    static func forgetRecent(_ messages: inout [Message]) {
        for index in messages.indices where messages[index].recent { messages[index].recent = false }
    }

    /// `* LIST (attributes) "." name` for the mailbox just selected (RFC 9051 §6.3.2).
    func writeSelectedList(_ target: FolderName.IMAPTarget, into w: inout ResponseWriter) {
        var attributes: [String] = []
        let name: String
        switch target {
        case .inbox:
            name = "INBOX"
            attributes.append(maildir.folders().isEmpty ? "\\HasNoChildren" : "\\HasChildren")
        case .folder(let folder):
            name = folder.imapName(utf8: utf8)
            attributes.append(maildir.folders().contains { $0 != folder && $0.isInside(folder) } ? "\\HasChildren" : "\\HasNoChildren")
            attributes += specialUses(folder)
        }
        w.append("* LIST (" + attributes.joined(separator: " ") + ") \".\" ")
        w.mailbox(Array(name.utf8))
        w.crlf()
    }
}

extension MailboxSession {
    /// Whether bytes come back the same after the store's CRLF → LF on disk and LF → CRLF on
    /// the wire: true unless some LF lacks its CR (binary APPEND, RFC 3516 §4.4).
    static func survivesLineEndConversion(_ bytes: [UInt8]) -> Bool {
        var previous: UInt8 = 0
        for c in bytes {
            if c == 10 && previous != 13 { return false }
            previous = c
        }
        return true
    }
}
