import IMAP
import MaildirCore

/// RFC 4314 (ACL, ACL2=UNION) on Courier's files (spec/access.md §1.6): GETACL, SETACL,
/// DELETEACL, LISTRIGHTS, MYRIGHTS with Courier's texts, and the rights checks the other
/// mailbox commands make. The logged-in user owns every folder of their Maildir
/// (`user=<login>`); `group=` account options name their groups.
extension MailboxSession {
    var aclStore: FolderACLStore { FolderACLStore(maildir: maildir) }

    /// The owner identifier of the user's own folders.
    var ownerIdentifier: String { ownerOverride ?? "user=" + user }

    /// The user's rights on a mailbox of this session's Maildir (`IMAP_ACL=0` only hides the
    /// capability: Courier 5.0's imapd still keeps and enforces ACLs then, observed).
    func myRights(_ target: FolderName.IMAPTarget) -> ACLRights {
        if let fixedRights { return fixedRights }
        return aclStore.read(Self.folder(target)).rights(user: user, owner: ownerIdentifier, options: accountOptions)
    }

    static func folder(_ target: FolderName.IMAPTarget) -> FolderName? {
        if case .folder(let f) = target { return f }
        return nil
    }

    /// A session that can change nothing in the folder (none of `i e s t w`) opens it read-only.
    static func selectsReadOnly(_ rights: ACLRights) -> Bool {
        rights.intersection("eistw").isEmpty
    }

    /// Checks one right; on refusal writes Courier's answer with RFC 5530's NOPERM code.
    func require(_ right: UInt8, on target: FolderName.IMAPTarget, _ command: String, _ shown: String,
                 _ tag: [UInt8], into w: inout ResponseWriter) -> Bool {
        if myRights(target).contains(right) { return true }
        accessDenied(command, shown, right, tag, into: &w)
        return false
    }

    func accessDenied(_ command: String, _ shown: String, _ right: UInt8, _ tag: [UInt8], into w: inout ResponseWriter) {
        let letter = String(decoding: [right], as: UTF8.self)
        w.tagged(tag, .no, .noPerm, "Access denied for \(command) on \(shown) (ACL \"\(letter)\" required)")
    }

    /// The mailbox a client named, as text for messages.
    static func shown(_ name: MailboxName) -> String { String(decoding: name.bytes, as: UTF8.self) }

    /// CREATE and RENAME need `c` on the parent (INBOX for a top-level folder).
    func requireCreate(in folder: FolderName, _ command: String, _ tag: [UInt8], into w: inout ResponseWriter) -> Bool {
        let parent: FolderName.IMAPTarget = folder.parent.map { .folder($0) } ?? .inbox
        let shown = folder.parent?.imapName(utf8: utf8) ?? "INBOX"
        return require(ACLRights.create, on: parent, command, shown, tag, into: &w)
    }

    /// The flags a STORE may change under the user's rights on the selected folder (Courier keeps
    /// the old value of the others): `s` for \Seen, `t` for \Deleted, `w` for the rest and keywords.
    func storableFlags() -> (seen: Bool, deleted: Bool, other: Bool) {
        guard let s = selected else { return (false, false, false) }
        let rights = myRights(s.folder.map { .folder($0) } ?? .inbox)
        return (rights.contains(ACLRights.seen), rights.contains(ACLRights.deleteMessages), rights.contains(ACLRights.write))
    }

    static func mayStore(_ flag: Flag, _ allowed: (seen: Bool, deleted: Bool, other: Bool)) -> Bool {
        switch flag {
        case .seen: allowed.seen
        case .deleted: allowed.deleted
        default: allowed.other
        }
    }

    // MARK: the ACL commands

    /// An existing mailbox of the user's, or the NO Courier sends.
    private func aclTarget(_ name: MailboxName, _ tag: [UInt8], into w: inout ResponseWriter) -> FolderName.IMAPTarget? {
        guard let target = target(name) else {
            w.tagged(tag, .no, nil, "Error in IMAP command received by server.")
            return nil
        }
        guard exists(target) else {
            w.tagged(tag, .no, .nonExistent, "Mailbox does not exist, or must be subscribed to.")
            return nil
        }
        return target
    }

    /// MYRIGHTS and LISTRIGHTS need some right on the mailbox (RFC 4314 §4): any of `lrixeac`.
    private func mayAskRights(_ rights: ACLRights) -> Bool {
        !rights.intersection("aceilrx").isEmpty
    }

    /// RFC 4314 §3.8 MYRIGHTS: `* MYRIGHTS "INBOX" "acdilrsw"`.
    func myRightsCommand(_ tag: [UInt8], _ name: MailboxName, into w: inout ResponseWriter) {
        guard let target = aclTarget(name, tag, into: &w) else { return }
        let rights = myRights(target)
        guard mayAskRights(rights) else {
            accessDenied("MYRIGHTS", Self.shown(name), ACLRights.administer, tag, into: &w)
            return
        }
        w.append("* MYRIGHTS ")
        w.mailbox(name.bytes)
        w.space()
        w.string(rights.reportedText)
        w.crlf()
        w.tagged(tag, .ok, nil, "MYRIGHTS completed.")
    }

    /// RFC 4314 §3.3 GETACL: the entries for users and the special identifiers; `group=` entries
    /// stay hidden, `user=bob` is shown as `bob` (Courier).
    func getACL(_ tag: [UInt8], _ name: MailboxName, into w: inout ResponseWriter) {
        guard let target = aclTarget(name, tag, into: &w) else { return }
        guard require(ACLRights.administer, on: target, "GETACL", Self.shown(name), tag, into: &w) else { return }
        w.append("* ACL ")
        w.mailbox(name.bytes)
        for entry in aclStore.read(Self.folder(target)).entries {
            var identifier = Substring(entry.identifier)
            let negative = entry.isNegative
            if negative { identifier = identifier.dropFirst() }
            if identifier.contains("=") {
                guard identifier.hasPrefix("user=") else { continue }
                identifier = identifier.dropFirst(5)
            }
            w.space()
            w.string((negative ? "-" : "") + identifier)
            w.space()
            w.string(entry.rights.reportedText)
        }
        w.crlf()
        w.tagged(tag, .ok, nil, "GETACL completed.")
    }

    /// RFC 4314 §3.7 LISTRIGHTS, in Courier's three forms: the owner always holds `a l`; the
    /// owner's and everybody's negative rights can never include them; others may get any right.
    func listRights(_ tag: [UInt8], _ name: MailboxName, _ identifier: [UInt8], into w: inout ResponseWriter) {
        guard let target = aclTarget(name, tag, into: &w) else { return }
        guard mayAskRights(myRights(target)) else {
            accessDenied("LISTRIGHTS", Self.shown(name), ACLRights.administer, tag, into: &w)
            return
        }
        let text = String(decoding: identifier, as: UTF8.self)
        w.append("* LISTRIGHTS ")
        w.mailbox(name.bytes)
        w.space()
        w.string(identifier)
        if text.hasPrefix("-") && (["anyone", "anonymous"].contains(String(text.dropFirst()))
                                   || "user=" + text.dropFirst() == ownerIdentifier) {
            w.append(" \"\" c d i p r s w\r\n")
        } else if "user=" + text == ownerIdentifier {
            w.append(" \"al\" c d i p r s w\r\n")
        } else {
            w.append(" \"\" a c d i l p r s w\r\n")
        }
        w.tagged(tag, .ok, nil, "LISTRIGHTS completed.")
    }

    /// Courier's mapping of an IMAP identifier to a stored one: `bob` → `user=bob`, the special
    /// identifiers as they are, and nothing that already has `=` in it.
    static func storedIdentifier(_ identifier: [UInt8]) -> String? {
        guard let text = String(validating: identifier, as: UTF8.self), !text.isEmpty else { return nil }
        let negative = text.hasPrefix("-")
        let bare = negative ? String(text.dropFirst()) : text
        if ["anyone", "anonymous", "authuser", "owner", "administrators"].contains(bare) { return text }
        if bare.isEmpty || bare.contains("=") { return nil }
        return (negative ? "-" : "") + "user=" + bare
    }

    /// SETACL's change to one entry: `+`/`-` add or take away rights (RFC 2086 `d` = `e t x`),
    /// otherwise the rights replace the entry's; none remove it.
    static func apply(modifier: UInt8?, _ requested: [UInt8], to stored: String, in list: inout ACLList) {
        switch modifier {
        case UInt8(ascii: "+"):
            let added = ACLRights.fromClient(requested.dropFirst())
            if !added.isEmpty { list.set(stored, added.union(list.rights(of: stored) ?? .none)) }
        case UInt8(ascii: "-"):
            if let old = list.rights(of: stored) {
                let kept = old.subtracting(ACLRights.fromClient(requested.dropFirst()))
                if kept.isEmpty { list.remove(stored) } else { list.set(stored, kept) }
            }
        default:
            if requested.isEmpty { list.remove(stored) } else { list.set(stored, ACLRights.fromClient(requested)) }
        }
    }

    /// RFC 4314 §3.1-3.2 SETACL and DELETEACL (`rights` nil). `+`/`-` add or take away rights;
    /// otherwise the rights replace the entry's (empty: removes it).
    func setACL(_ tag: [UInt8], _ name: MailboxName, _ identifier: [UInt8], _ rights: [UInt8]?,
                into w: inout ResponseWriter) {
        guard let target = aclTarget(name, tag, into: &w) else { return }
        guard let stored = Self.storedIdentifier(identifier) else {
            w.tagged(tag, .no, nil, "Invalid ACL identifier.")
            return
        }
        let command = rights == nil ? "DELETEACL" : "SETACL"
        guard require(ACLRights.administer, on: target, command, Self.shown(name), tag, into: &w) else { return }
        let before = myRights(target)
        let folder = Self.folder(target)
        let requested = rights ?? []
        let modifier = requested.first
        // Read, change and write under the Maildir's lock (the one Courier's imapd takes for its
        // ACL updates and UID rescans), so two sessions' changes never overwrite each other.
        var outcome: Result<Void, FolderACLStore.WriteError> = .success(())
        let store = aclStore, owner = ownerIdentifier
        do throws(MaildirError) {
            try MaildirLock.withLock(folderPath: maildir.path, timeoutSeconds: 30) { () throws(MaildirError) in
                var list = store.read(folder)
                Self.apply(modifier: modifier, requested, to: stored, in: &list)
                do throws(FolderACLStore.WriteError) {
                    try store.write(list, for: folder, owner: owner)
                } catch {
                    outcome = .failure(error)
                }
            }
        } catch {
            outcome = .failure(.system(error))
        }
        switch outcome {
        case .success: break
        case .failure(.invalid(.minimumRights)) where modifier == UInt8(ascii: "+") || modifier == UInt8(ascii: "-"):
            w.tagged(tag, .no, .noPerm, "Cannot modify ACLs as requested.")
            return
        case .failure:
            // Courier 5.0's answer for a replacing SETACL, a DELETEACL, and the administrators rule.
            w.tagged(tag, .no, .noPerm, "Cannot modify ACLs on this mailbox.")
            return
        }
        // The selected folder's rights changed: Courier re-sends them.
        if let s = selected, s.folder == folder {
            let after = myRights(target)
            if after != before { w.untaggedStatus(.ok, .myRights(after.selectText), "ACL") }
        }
        w.tagged(tag, .ok, nil, "ACLs updated.")
    }
}

extension MailboxSession {
    /// The user's rights on the selected folder (none when nothing is selected).
    func selectedRights() -> ACLRights {
        guard let s = selected else { return .none }
        return myRights(s.folder.map { .folder($0) } ?? .inbox)
    }
}
