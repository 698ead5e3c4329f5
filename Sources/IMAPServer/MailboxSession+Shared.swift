import IMAP
import MaildirCore

/// Courier's virtual shared folders (spec/access.md §1.7 (A)): other accounts of the shared
/// index appear under `#shared.<account>.<folder>` (their INBOX as `#shared.<account>`), each
/// mailbox as far as its ACL grants this user rights. Commands on such a name run in a second
/// `MailboxSession` over the other account's Maildir, whose names all carry the `#shared.`
/// prefix and whose folders are owned by the index's owner identifier, never by this user.
extension MailboxSession {
    static let sharedNamespace = "#shared"

    /// The session for a `#shared.` name's account (nil: not a shared name, sharing off, no
    /// such account, or its Maildir is not there: Courier skips those silently).
    func sharedSession(for name: MailboxName) -> MailboxSession? {
        guard let index = sharedIndex, sharedPrefix == nil,
              let text = String(validating: name.bytes, as: UTF8.self),
              text.hasPrefix(Self.sharedNamespace + ".") else { return nil }
        let components = text.dropFirst(Self.sharedNamespace.count + 1).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let (location, _) = index.resolve(components) else { return nil }
        let prefix = Self.sharedNamespace + "." + location.prefix.joined(separator: ".")
        if let current = sharedSelection, current.sharedPrefix == prefix { return current }
        return makeSharedSession(location, prefix: prefix)
    }

    func makeSharedSession(_ location: SharedIndex.Location, prefix: String) -> MailboxSession? {
        guard SystemCall.isDirectory(location.maildir + "/cur") else { return nil }
        let session = MailboxSession(maildirPath: location.maildir, user: user, options: options)
        session.accountOptions = accountOptions
        session.sharedPrefix = prefix
        session.ownerOverride = location.owner
        return session
    }

    /// In a shared session: `#shared.bob` → `INBOX`, `#shared.bob.Sent` → `INBOX.Sent`; nil
    /// for names outside this account.
    func localName(_ text: String) -> String? {
        guard let prefix = sharedPrefix else { return text }
        if text == prefix { return "INBOX" }
        guard text.hasPrefix(prefix + ".") else { return nil }
        return "INBOX" + text.dropFirst(prefix.count)
    }

    /// The mailbox a command names, for routing.
    static func mailboxName(of command: Command) -> MailboxName? {
        switch command {
        case .select(let n, _), .examine(let n, _), .status(let n, _), .append(let n, _), .getACL(let n),
             .myRights(let n), .listRights(let n, _), .setACL(let n, _, _), .deleteACL(let n, _):
            return n
        default: return nil
        }
    }

    /// Commands that act on the selected mailbox.
    static func actsOnSelection(_ command: Command) -> Bool {
        switch command {
        case .fetch, .store, .search, .copy, .move, .expunge, .uidExpunge, .noop, .check, .close,
             .unselect, .sort, .thread:
            return true
        default: return false
        }
    }

    /// Runs what belongs to a shared session; nil when the own session should.
    func runShared(_ tagged: TaggedCommand, utf8: Bool, streamed: [Int: StreamedAppend])
        -> (bytes: [UInt8], change: SelectionChange)? {
        let command = tagged.command
        if case .list(let list) = command, sharedIndex != nil, sharedPrefix == nil,
           !list.patterns.isEmpty, list.patterns.allSatisfy({ (list.reference + $0).starts(with: Array(Self.sharedNamespace.utf8)) }) {
            var w = ResponseWriter(capacity: 1024)
            w.utf8Allowed = utf8
            listShared(tagged.tag, list, into: &w)
            return (w.bytes, .none)
        }
        if let name = Self.mailboxName(of: command), String(decoding: name.bytes, as: UTF8.self).hasPrefix(Self.sharedNamespace + "."),
           sharedPrefix == nil {
            guard let shared = sharedSession(for: name) else {
                for s in streamed.values { s.abort() }
                var w = ResponseWriter()
                w.tagged(tagged.tag, .no, .nonExistent, "Mailbox does not exist, or must be subscribed to.")
                return (w.bytes, .none)
            }
            shared.flushHook = flushHook
            let wasSelected = selected != nil || sharedSelection != nil
            var result = shared.run(tagged, utf8: utf8, streamed: streamed)
            switch command {
            case .select, .examine:
                deselect()
                sharedSelection = nil
                if case .selected = result.change {
                    sharedSelection = shared
                } else if wasSelected {
                    result.change = .deselected
                }
            default: break
            }
            return result
        }
        if let shared = sharedSelection {
            switch command {
            case .select, .examine:
                sharedSelection = nil
                return nil
            default:
                guard Self.actsOnSelection(command) else { return nil }
                shared.flushHook = flushHook
                let result = shared.run(tagged, utf8: utf8, streamed: streamed)
                if case .deselected = result.change { sharedSelection = nil }
                return result
            }
        }
        return nil
    }

    /// LIST under `#shared.`: every mailbox of every indexed account this user may look up.
    func listShared(_ tag: [UInt8], _ command: ListCommand, into w: inout ResponseWriter) {
        let keyword = command.isLSUB ? "LSUB" : "LIST"
        guard let index = sharedIndex else {
            w.tagged(tag, .ok, nil, "\(keyword) completed")
            return
        }
        var listed: [(name: String, selectable: Bool)] = []
        for location in index.accounts() {
            let prefix = Self.sharedNamespace + "." + location.prefix.joined(separator: ".")
            guard let shared = makeSharedSession(location, prefix: prefix) else { continue }
            shared.utf8 = utf8
            var visible: [(String, Bool)] = []
            for box in shared.allMailboxes() where box.selectable {
                let target: FolderName.IMAPTarget = box.folder.map { .folder($0) } ?? .inbox
                guard shared.myRights(target).contains(ACLRights.lookup) else { continue }
                let name = box.folder.map { prefix + "." + (utf8 ? $0.name : ModifiedUTF7.encode($0.name)) } ?? prefix
                visible.append((name, true))
            }
            // Hierarchy levels above visible folders (the account, its groups, parent folders).
            var parents: [String] = []
            for (name, _) in visible {
                var parts = name.split(separator: ".").map(String.init)
                while parts.count > 1 {
                    parts.removeLast()
                    let parent = parts.joined(separator: ".")
                    if !visible.contains(where: { $0.0 == parent }) && !parents.contains(parent) { parents.append(parent) }
                }
            }
            listed += visible + parents.map { ($0, false) }
        }
        let names = listed.map(\.name)
        for box in listed.sorted(by: { $0.name < $1.name }) {
            let matched = command.patterns.contains { Self.matches(pattern: command.reference + $0, name: Array(box.name.utf8)) }
            guard matched else { continue }
            var attributes: [String] = box.selectable ? [] : ["\\Noselect"]
            attributes.append(names.contains { $0.hasPrefix(box.name + ".") } ? "\\HasChildren" : "\\HasNoChildren")
            w.append("* \(keyword) (" + attributes.joined(separator: " ") + ") \".\" ")
            w.mailbox(Array(box.name.utf8))
            w.crlf()
        }
        w.tagged(tag, .ok, nil, "\(keyword) completed")
    }
}
