#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MaildirCore

extension MailboxSession {
    /// Every mailbox name: INBOX, each folder, and parents that are not folders themselves.
    func allMailboxes() -> [(name: String, selectable: Bool, folder: FolderName?)] {
        var result: [(String, Bool, FolderName?)] = [("INBOX", true, nil)]
        var names = Set<String>(["INBOX"])
        for folder in maildir.folders() {
            let components = folder.components
            for depth in 1..<max(1, components.count) {
                if let parent = try? FolderName(components.prefix(depth).joined(separator: ".")) {
                    let name = parent.imapName(utf8: utf8)
                    if names.insert(name).inserted { result.append((name, maildir.folderExists(parent), parent)) }
                }
            }
            let name = folder.imapName(utf8: utf8)
            if names.insert(name).inserted { result.append((name, true, folder)) }
        }
        return result
    }

    /// LIST / LSUB (RFC 3501 §6.3.8-9, RFC 5258, RFC 5819, RFC 6154).
    func list(_ tag: [UInt8], _ command: ListCommand, into w: inout ResponseWriter) {
        let keyword = command.isLSUB ? "LSUB" : "LIST"
        if command.patterns.count == 1 && command.patterns[0].isEmpty && !command.isLSUB {
            // RFC 3501 §6.3.8: an empty pattern asks for the hierarchy delimiter.
            w.untagged("LIST (\\Noselect) \".\" \"\"")
            w.tagged(tag, .ok, nil, "LIST completed")
            return
        }
        // Subscriptions are kept in modified UTF-7 (Courier's file); a UTF-8 session compares
        // with the names it sees.
        let subscribed = Set(((try? Subscriptions(maildir: maildir).names()) ?? []).map(subscriptionName))
        var mailboxes = allMailboxes()
        let existing = Set(mailboxes.map(\.name))
        if command.isLSUB || command.subscribedOnly {
            // RFC 5258 §3.1 / RFC 9051 §6.3.9: subscribed names that no longer exist are listed
            // too (`\NonExistent`); so are parents of subscribed names, for RECURSIVEMATCH.
            for name in subscribed.sorted() where !existing.contains(name) {
                mailboxes.append((name, false, nil))
            }
        }
        let allNames = mailboxes.map(\.name)
        // RFC 6154: each existing mailbox's special uses, read once.
        var usesByName: [String: [String]] = [:]
        for box in mailboxes where existing.contains(box.name) { usesByName[box.name] = specialUses(box.folder) }
        for box in mailboxes {
            let matched = command.patterns.contains { Self.matches(pattern: command.reference + $0, name: Array(box.name.utf8)) }
            guard matched else { continue }
            let isSubscribed = subscribed.contains(box.name)
            let exists = existing.contains(box.name)
            let uses = usesByName[box.name] ?? []
            // RFC 5258 §3: the selection options a mailbox itself meets.
            let selected = (!(command.isLSUB || command.subscribedOnly) || isSubscribed)
                && (!command.specialUseOnly || !uses.isEmpty)
            // RFC 5258 §4: with RECURSIVEMATCH a mailbox that does not meet them but has a
            // descendant that does is listed with CHILDINFO naming the options.
            var childInfo: [String] = []
            if command.recursiveMatch && !selected {
                let below = box.name + "."
                let descendantMeets = mailboxes.contains { other in
                    other.name.hasPrefix(below)
                        && (!command.subscribedOnly || subscribed.contains(other.name))
                        && (!command.specialUseOnly || !(usesByName[other.name] ?? []).isEmpty)
                }
                if descendantMeets {
                    if command.subscribedOnly { childInfo.append("SUBSCRIBED") }
                    if command.specialUseOnly { childInfo.append("SPECIAL-USE") }
                }
            }
            if !selected && childInfo.isEmpty { continue }
            // RFC 4314 §4: LIST shows only mailboxes with `l`.
            let rights = exists ? myRights(box.folder.map { .folder($0) } ?? .inbox) : ACLRights("")
            if exists && !rights.contains(ACLRights.lookup) { continue }
            var attributes: [String] = []
            if !exists && !command.isLSUB {
                attributes.append("\\NonExistent")
            } else if !box.selectable {
                attributes.append("\\Noselect")
            }
            if exists {
                let hasChildren = allNames.contains { $0.hasPrefix(box.name + ".") && existing.contains($0) }
                attributes.append(hasChildren ? "\\HasChildren" : "\\HasNoChildren")
            }
            attributes += uses
            if (command.returnSubscribed || command.subscribedOnly) && isSubscribed && !command.isLSUB {
                attributes.append("\\Subscribed")
            }
            w.append("* \(keyword) (" + attributes.joined(separator: " ") + ") \".\" ")
            w.mailbox(Array(box.name.utf8))
            if !childInfo.isEmpty && !command.isLSUB {
                w.append(" (\"CHILDINFO\" (" + childInfo.map { "\"\($0)\"" }.joined(separator: " ") + "))")
            }
            w.crlf()
            guard exists && box.selectable && !command.isLSUB else { continue }
            writeListExtras(MailboxName(box.name), command, rights: rights, into: &w)
        }
        w.tagged(tag, .ok, nil, "\(keyword) completed")
    }

    /// Courier's folder conventions as RFC 6154 attributes.
    static func specialUse(_ folder: FolderName?) -> String? {
        guard let folder, folder.components.count == 1 else { return nil }
        switch folder.name.lowercased() {
        case "trash": return "\\Trash"
        case "sent": return "\\Sent"
        case "drafts": return "\\Drafts"
        case "junk", "spam": return "\\Junk"
        case "archive": return "\\Archive"
        default: return nil
        }
    }

    /// `*` matches anything, `%` anything but the delimiter (RFC 3501 §6.3.8). INBOX is case-insensitive.
    static func matches(pattern: [UInt8], name: [UInt8]) -> Bool {
        var p = pattern
        if p.count >= 5, Parser.uppercasedBytes(Array(p.prefix(5))) == Array("INBOX".utf8) {
            p = Array("INBOX".utf8) + p.dropFirst(5)
        }
        var memo = [Int: Bool]()
        func match(_ i: Int, _ j: Int) -> Bool {
            let key = i * (name.count + 1) + j
            if let known = memo[key] { return known }
            var result: Bool
            if i == p.count {
                result = j == name.count
            } else if p[i] == UInt8(ascii: "*") {
                result = match(i + 1, j) || (j < name.count && match(i, j + 1))
            } else if p[i] == UInt8(ascii: "%") {
                result = match(i + 1, j) || (j < name.count && name[j] != UInt8(ascii: ".") && match(i, j + 1))
            } else {
                result = j < name.count && p[i] == name[j] && match(i + 1, j + 1)
            }
            memo[key] = result
            return result
        }
        guard p.count <= 1000, name.count <= 1000 else { return false }
        return match(0, 0)
    }

    // MARK: CREATE / DELETE / RENAME (RFC 3501 §6.3.3-5)

    func create(_ tag: [UInt8], _ name: MailboxName, specialUse: [String] = [], into w: inout ResponseWriter) {
        var bytes = name.bytes
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }  // RFC 3501 §6.3.3: trailing delimiter
        guard let target = target(MailboxName(bytes)), case .folder(let folder) = target else {
            w.tagged(tag, .no, .cannot, "Invalid mailbox name.")
            return
        }
        if maildir.folderExists(folder) {
            w.tagged(tag, .no, .alreadyExists, "Mailbox already exists.")
            return
        }
        guard requireCreate(in: folder, "CREATE", tag, into: &w) else { return }
        // RFC 6154 §3: a use we cannot honour refuses the CREATE.
        guard let uses = Self.acceptedUses(specialUse) else {
            w.tagged(tag, .no, .useAttr, "This special-use attribute is not supported.")
            return
        }
        do {
            try maildir.createFolder(folder)
            _ = aclStore.read(folder)  // the new folder inherits its parent's ACL now
            if !uses.isEmpty {
                do {
                    try storeSpecialUses(uses, for: folder)
                } catch {
                    try? maildir.deleteFolder(folder)
                    w.tagged(tag, .no, .serverBug, "Cannot record the special use: \(error)")
                    return
                }
            }
            w.tagged(tag, .ok, nil, "\"\(folder.imapName(utf8: utf8))\" created.")
        } catch {
            w.tagged(tag, .no, .cannot, "Cannot create the mailbox: \(error)")
        }
    }

    func delete(_ tag: [UInt8], _ name: MailboxName, into w: inout ResponseWriter) {
        guard let target = target(name) else {
            w.tagged(tag, .no, .cannot, "Invalid mailbox name.")
            return
        }
        guard case .folder(let folder) = target else {
            w.tagged(tag, .no, .cannot, "Cannot delete this folder.")
            return
        }
        guard require(ACLRights.deleteMailbox, on: target, "DELETE", Self.shown(name), tag, into: &w) else { return }
        if !maildir.folderExists(folder) && maildir.folders().contains(where: { $0.isInside(folder) }) {
            // RFC 9051 §6.3.5: a \Noselect name with inferior names cannot be deleted.
            w.tagged(tag, .no, .hasChildren, "Only the folders below this name exist; delete them first.")
            return
        }
        if selected?.folder == folder { deselect() }
        do {
            try maildir.deleteFolder(folder)
            aclStore.remove(folder)
            try? Subscriptions(maildir: maildir).unsubscribe(folder.imapName(utf8: false))
            w.tagged(tag, .ok, nil, "Folder deleted.")
        } catch {
            w.tagged(tag, .no, .nonExistent, "Mailbox does not exist.")
        }
    }

    func rename(_ tag: [UInt8], _ from: MailboxName, _ to: MailboxName, into w: inout ResponseWriter) {
        guard let source = target(from), let destination = target(to), case .folder(let newFolder) = destination else {
            w.tagged(tag, .no, .cannot, "Invalid mailbox name.")
            return
        }
        guard case .folder(let oldFolder) = source else {
            renameInbox(tag, to: newFolder, into: &w)
            return
        }
        guard require(ACLRights.deleteMailbox, on: source, "RENAME", Self.shown(from), tag, into: &w),
              requireCreate(in: newFolder, "RENAME", tag, into: &w) else { return }
        do {
            try maildir.renameFolder(oldFolder, to: newFolder)
            w.tagged(tag, .ok, nil, "Folder renamed.")
        } catch MaildirError.alreadyExists {
            w.tagged(tag, .no, .alreadyExists, "Mailbox already exists.")
        } catch {
            w.tagged(tag, .no, .nonExistent, "Cannot rename the mailbox.")
        }
    }

    func subscribe(_ tag: [UInt8], _ name: MailboxName, subscribe: Bool, into w: inout ResponseWriter) {
        guard let target = target(name) else {
            w.tagged(tag, .no, .cannot, "Invalid mailbox name.")
            return
        }
        let text: String
        switch target {
        case .inbox: text = "INBOX"
        case .folder(let f): text = f.imapName(utf8: false)
        }
        let subscriptions = Subscriptions(maildir: maildir)
        do {
            if subscribe { try subscriptions.subscribe(text) } else { try subscriptions.unsubscribe(text) }
            w.tagged(tag, .ok, nil, subscribe ? "Folder subscribed." : "Folder unsubscribed.")
        } catch {
            w.tagged(tag, .no, .serverBug, "Cannot update subscriptions.")
        }
    }

    // MARK: STATUS (RFC 3501 §6.3.10)

    func status(_ tag: [UInt8], _ name: MailboxName, _ items: [StatusItem], into w: inout ResponseWriter) {
        guard let target = target(name), exists(target) else {
            w.tagged(tag, .no, .nonExistent, "Mailbox does not exist, or must be subscribed to.")
            return
        }
        guard require(ACLRights.read, on: target, "STATUS", Self.shown(name), tag, into: &w) else { return }
        writeStatus(name, items, into: &w)
        w.tagged(tag, .ok, nil, "STATUS Completed.")
    }

    func writeStatus(_ name: MailboxName, _ items: [StatusItem], into w: inout ResponseWriter) {
        guard let target = target(name) else { return }
        let dir = directory(target)
        guard let snapshot = try? FolderScanner(folderPath: dir, trashFolderName: maildir.trashFolderName).scan(readOnly: true) else { return }
        var parts: [String] = []
        for item in items {
            let value: String
            switch item {
            case .messages: value = "\(snapshot.messages.count + snapshot.leftInNew)"
            case .recent: value = "\(snapshot.messages.filter(\.isRecent).count + snapshot.leftInNew)"
            case .uidNext: value = "\(snapshot.nextUID)"
            case .uidValidity: value = "\(snapshot.uidValidity)"
            case .unseen: value = "\(snapshot.messages.filter { !($0.fileName.flags?.isSeen ?? false) }.count + snapshot.leftInNew)"
            case .deleted: value = "\(snapshot.messages.filter { $0.fileName.flags?.isTrashed ?? false }.count)"
            case .size: value = "\(mailboxSize(dir))"
            case .appendLimit: value = "\(appendLimit(appendLiteralLimit))"
            case .highestModSeq: value = "\(highestModSeq(of: dir))"   // RFC 7162 §3.1.6
            }
            parts.append("\(item.rawValue) \(value)")
        }
        w.append("* STATUS ")
        w.mailbox(name.bytes)
        w.append(" (" + parts.joined(separator: " ") + ")\r\n")
    }

    // MARK: QUOTA (RFC 2087; spec/access.md §2.5)

    func quota(_ tag: [UInt8], root: Bool, name: MailboxName?, into w: inout ResponseWriter) {
        if let name {
            w.append("* QUOTAROOT ")
            w.mailbox(name.bytes)
            w.append(" \"ROOT\"\r\n")
        }
        if let current = maildir.quota.read() {
            var parts: [String] = []
            let q = current.file.quota
            if q.bytes > 0 { parts.append("STORAGE \((max(0, current.file.usage.bytes) + 1023) / 1024) \((q.bytes + 1023) / 1024)") }
            if q.messages > 0 { parts.append("MESSAGE \(max(0, current.file.usage.messages)) \(q.messages)") }
            w.append("* QUOTA \"ROOT\" (" + parts.joined(separator: " ") + ")\r\n")
        } else {
            w.append("* QUOTA \"ROOT\" ()\r\n")
        }
        w.tagged(tag, .ok, nil, root ? "GETQUOTAROOT Ok." : "GETQUOTA Ok.")
    }
}

extension Parser {
    static func uppercasedBytes(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
    }
}
