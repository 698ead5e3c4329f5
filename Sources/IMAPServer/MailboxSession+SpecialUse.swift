#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MaildirCore

/// Special-use attributes of folders (RFC 6154): Courier's conventional names (Trash, Sent,
/// Drafts, Junk/Spam, Archive) and, for CREATE-SPECIAL-USE (RFC 6154 §3), the attributes a
/// client gave at CREATE, kept in the folder's own `courierswiftspecialuse` file (one attribute
/// a line) so RENAME carries them along and DELETE takes them away.
extension MailboxSession {
    /// The file inside a folder's directory that holds the attributes given at CREATE.
    static let specialUseFileName = "courierswiftspecialuse"

    /// Attributes CREATE may give: the ones that name a real folder's use. `\All` and
    /// `\Flagged` describe virtual mailboxes this server does not make (RFC 6154 §3: NO [USEATTR]).
    static let creatableUses: [String] = ["\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash", "\\Important"]

    /// The folder's special-use attributes: those stored at CREATE, else the conventional one.
    func specialUses(_ folder: FolderName?) -> [String] {
        guard let folder else { return [] }
        let path = maildir.directory(of: folder) + "/" + Self.specialUseFileName
        if let bytes = try? SystemCall.readFile(path, limit: 4096) {
            let stored = bytes.split(separator: 10).compactMap { line -> String? in
                let text = String(decoding: line, as: UTF8.self)
                return Self.creatableUses.first { $0.lowercased() == text.lowercased() }
            }
            if !stored.isEmpty { return stored }
        }
        return Self.specialUse(folder).map { [$0] } ?? []
    }

    /// The attributes of a CREATE (…) USE (…), checked and spelled as RFC 6154 does; nil when
    /// one of them cannot be honoured.
    static func acceptedUses(_ uses: [String]) -> [String]? {
        var result: [String] = []
        for use in uses {
            guard let known = creatableUses.first(where: { $0.lowercased() == use.lowercased() }) else { return nil }
            if !result.contains(known) { result.append(known) }
        }
        return result
    }

    /// Records the attributes of a folder just created.
    func storeSpecialUses(_ uses: [String], for folder: FolderName) throws(MaildirError) {
        let dir = maildir.directory(of: folder)
        let bytes = Array(uses.map { $0 + "\n" }.joined().utf8)
        try SystemCall.replaceFile(dir + "/" + Self.specialUseFileName,
                                   temporaryPath: dir + "/tmp/specialuse.\(getpid())", bytes: bytes, mode: 0o600)
    }
}

extension MailboxSession {
    /// A name from `courierimapsubscribed` (modified UTF-7, as Courier writes it) as this
    /// session spells mailbox names: in UTF-8 once UTF8=ACCEPT or IMAP4rev2 is enabled.
    func subscriptionName(_ stored: String) -> String {
        guard utf8, stored.hasPrefix("INBOX.") else { return stored }
        let folder = String(stored.dropFirst(6))
        guard let decoded = ModifiedUTF7.decode(Array(folder.utf8)) else { return stored }
        return "INBOX." + decoded
    }
}
