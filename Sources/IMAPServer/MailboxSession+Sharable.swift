import IMAP
import MaildirCore

/// Courier's filesystem shared folders (spec/access.md §1.7 (B)): the sharable maildirs of the
/// site's `maildirshared` and the user's `shared-maildirs` (`maildirmake --add`) appear as
/// `shared.<nick>.<folder>`; SUBSCRIBE makes the user's local copy, SELECT syncs it and opens it
/// in a session of its own. Flags are the user's; the sharable folder is only read here.
extension MailboxSession {
    static let sharableNamespace = "shared"

    /// `#shared.…` (virtual) or `shared.…` (filesystem) names.
    static func isSharedName(_ name: MailboxName) -> Bool {
        name.bytes.starts(with: Array((sharedNamespace + ".").utf8)) || name.bytes.starts(with: Array((sharableNamespace + ".").utf8))
    }

    var sharable: SharableMaildirs { SharableMaildirs(maildir: maildir, systemFile: options.sharableMaildirsFile) }

    /// `shared.<nick>.<folder>` → (nick, folder); nil for other names.
    func sharableName(_ name: MailboxName) -> (nick: String, folder: FolderName)? {
        guard sharedPrefix == nil, let text = String(validating: name.bytes, as: UTF8.self),
              text.hasPrefix(Self.sharableNamespace + ".") else { return nil }
        let rest = text.dropFirst(Self.sharableNamespace.count + 1)
        guard let dot = rest.firstIndex(of: "."), dot > rest.startIndex else { return nil }
        let nick = String(rest[..<dot])
        guard let target = try? FolderName.fromIMAP("INBOX" + rest[dot...], utf8: utf8),
              case .folder(let folder) = target else { return nil }
        return (nick, folder)
    }

    /// The session of a subscribed `shared.` folder, synced first; nil if not subscribed.
    func sharableSession(for name: MailboxName) -> MailboxSession? {
        guard let (nick, folder) = sharableName(name), sharable.isSubscribed(nick: nick, folder: folder),
              let path = sharable.path(of: nick), SharableMaildirs.isPublic(path + "/" + folder.directoryName) else { return nil }
        let prefix = String(decoding: name.bytes, as: UTF8.self)
        if let current = sharedSelection, current.sharedPrefix == prefix { return current }
        sharable.sync(nick: nick, folder: folder)
        let session = MailboxSession(maildirPath: sharable.localPath(nick: nick, folder: folder), user: user, options: options)
        session.accountOptions = accountOptions
        session.sharedPrefix = prefix
        session.ownerOverride = "anonymous"
        // Read and the user's own flags (\Deleted too: `t`); adding where everybody may write
        // (+SharableWrite); EXPUNGE (`e`) removes what the folder's permissions let the user
        // remove and undeletes the rest (+SharableExpunge).
        // The `shared` link lives in the user's Maildir: writes go through it only while it still
        // names the configured sharable folder.
        let remote = path + "/" + folder.directoryName
        let linked = Self.linkTarget(sharable.localPath(nick: nick, folder: folder) + "/shared") == remote
        session.fixedRights = linked && Self.sharableIsWritable(remote) ? "eilrstw" : "elrstw"
        return session
    }

    /// LIST/LSUB under `shared.` and SUBSCRIBE/UNSUBSCRIBE of `shared.` folders; nil otherwise.
    func runSharable(_ tagged: TaggedCommand, utf8: Bool) -> (bytes: [UInt8], change: SelectionChange)? {
        guard sharedPrefix == nil else { return nil }
        var w = ResponseWriter(capacity: 512)
        w.utf8Allowed = utf8
        switch tagged.command {
        case .list(let list) where !list.patterns.isEmpty && list.patterns.allSatisfy({
            (list.reference + $0).starts(with: Array(Self.sharableNamespace.utf8)) }):
            listSharable(tagged.tag, list, into: &w)
        case .list(let list) where list.isLSUB && !sharable.entries().isEmpty:
            // LSUB "" "*" also shows the subscribed `shared.` folders (Courier does).
            var own = ResponseWriter(capacity: 512)
            own.utf8Allowed = utf8
            self.list(tagged.tag, list, into: &own)
            var extra = ResponseWriter(capacity: 256)
            extra.utf8Allowed = utf8
            listSharable(tagged.tag, list, into: &extra, tagged: false)
            let done = Array("LSUB completed\r\n".utf8)
            guard own.bytes.count > done.count, own.bytes.suffix(done.count).elementsEqual(done),
                  let lineStart = own.bytes.dropLast().lastIndex(of: 10).map({ $0 + 1 }) ?? Optional(0) else {
                return (own.bytes, .none)
            }
            w.append(bytes: Array(own.bytes[..<lineStart]) + extra.bytes + Array(own.bytes[lineStart...]))
        case .subscribe(let name), .unsubscribe(let name):
            guard Self.isSharedName(name), let (nick, folder) = sharableName(name) else { return nil }
            var on = false
            if case .subscribe = tagged.command { on = true }
            do {
                let text = String(decoding: name.bytes, as: UTF8.self)
                if on {
                    guard let path = sharable.path(of: nick),
                          SharableMaildirs.isPublic(path + "/" + folder.directoryName) else {
                        w.tagged(tagged.tag, .no, .nonExistent, "Mailbox does not exist.")
                        return (w.bytes, .none)
                    }
                    try sharable.subscribe(nick: nick, folder: folder)
                    try Subscriptions(maildir: maildir).subscribe(text)
                } else {
                    try sharable.unsubscribe(nick: nick, folder: folder)
                    try Subscriptions(maildir: maildir).unsubscribe(text)
                }
                w.tagged(tagged.tag, .ok, nil, on ? "SUBSCRIBE completed." : "UNSUBSCRIBE completed.")
            } catch {
                w.tagged(tagged.tag, .no, .serverBug, "Cannot update subscriptions.")
            }
        default:
            return nil
        }
        return (w.bytes, .none)
    }

    /// Every folder of every sharable maildir (LIST), or the subscribed ones (LSUB), with the
    /// `shared` and `shared.<nick>` levels as `\Noselect`.
    func listSharable(_ tag: [UInt8], _ command: ListCommand, into w: inout ResponseWriter, tagged: Bool = true) {
        let keyword = command.isLSUB ? "LSUB" : "LIST"
        var listed: [(name: String, selectable: Bool)] = []
        var subscribedNames = Set<String>()
        // Nothing here has a special use (RFC 6154): that selection option selects nothing.
        if command.specialUseOnly {
            if tagged { w.tagged(tag, .ok, nil, "\(keyword) completed") }
            return
        }
        for (nick, path) in sharable.entries() {
            for folder in SharableMaildirs.folders(of: path) {
                let subscribed = sharable.isSubscribed(nick: nick, folder: folder)
                if (command.isLSUB || command.subscribedOnly) && !subscribed { continue }
                listed.append((Self.sharableNamespace + "." + nick + "." + (utf8 ? folder.name : ModifiedUTF7.encode(folder.name)), true))
                if subscribed { subscribedNames.insert(listed[listed.count - 1].name) }
            }
        }
        var parents: [String] = []
        for (name, _) in listed {
            var parts = name.split(separator: ".").map(String.init)
            while parts.count > 1 {
                parts.removeLast()
                let parent = parts.joined(separator: ".")
                if !listed.contains(where: { $0.name == parent }) && !parents.contains(parent) { parents.append(parent) }
            }
        }
        // LIST (SUBSCRIBED): the levels above are not subscribed; only RECURSIVEMATCH lists
        // them, with CHILDINFO (RFC 5258 §4). LSUB shows them as \Noselect, as Courier does.
        if command.subscribedOnly && !command.recursiveMatch { parents = [] }
        let childInfoParents = command.subscribedOnly ? Set(parents) : []
        listed += parents.map { ($0, false) }
        let names = listed.map(\.name)
        for box in listed.sorted(by: { $0.name < $1.name }) {
            guard command.patterns.contains(where: { Self.matches(pattern: command.reference + $0, name: Array(box.name.utf8)) }) else { continue }
            var attributes: [String] = box.selectable ? [] : ["\\Noselect"]
            attributes.append(names.contains { $0.hasPrefix(box.name + ".") } ? "\\HasChildren" : "\\HasNoChildren")
            // RFC 5258 §3.1, §3.2: SUBSCRIBED (selection or return option) marks what is subscribed.
            if !command.isLSUB && (command.subscribedOnly || command.returnSubscribed) && subscribedNames.contains(box.name) {
                attributes.append("\\Subscribed")
            }
            w.append("* \(keyword) (" + attributes.joined(separator: " ") + ") \".\" ")
            w.mailbox(Array(box.name.utf8))
            if childInfoParents.contains(box.name) { w.append(" (\"CHILDINFO\" (\"SUBSCRIBED\"))") }
            w.crlf()
            // RETURN (STATUS …) / (MYRIGHTS) for the folders that open: the subscribed ones.
            if box.selectable && !command.isLSUB && (command.returnStatus != nil || command.returnMyRights) {
                let name = MailboxName(box.name)
                if let local = sharableSession(for: name), let rights = local.fixedRights {
                    local.utf8 = utf8
                    local.writeListExtras(name, command, rights: rights, into: &w)
                }
            }
        }
        if tagged { w.tagged(tag, .ok, nil, "\(keyword) completed") }
    }
}
