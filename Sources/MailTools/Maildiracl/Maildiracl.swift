#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import ToolSupport

/// `maildiracl` (spec/access.md §1.6): list, set, delete and compute a Maildir folder's ACL in
/// Courier's `courierimapacl` files, with Courier's options and exit codes:
/// `-reset maildir`, `-list maildir FOLDER`, `-set maildir FOLDER [-]identifier [+|-]rights`,
/// `-delete maildir FOLDER [-]identifier`, `-compute maildir FOLDER identifier...`.
/// FOLDER is `INBOX` or `INBOX.folder.sub` (modified UTF-7, or UTF-8); identifiers are as stored
/// (`user=bob`, `group=staff`, `owner`, `anyone`, `administrators`).
public enum Maildiracl {
    static let commands = ["-reset", "-list", "-set", "-delete", "-compute"]

    public static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count >= 3, commands.contains(arguments[1]) else { return usage() }
        let command = arguments[1]
        let maildirPath = arguments[2]
        let store = FolderACLStore(maildir: Maildir(path: maildirPath))
        if command == "-reset" {
            store.resetHierarchy()
            return 0
        }
        guard arguments.count >= 4 else { return usage() }
        guard let folder = folder(arguments[3]) else {
            printError("\(arguments[3]): \(SystemCall.errorText(EINVAL))\n")
            return 1
        }
        guard SystemCall.isDirectory(maildirPath) else {
            printError("\(maildirPath): \(SystemCall.errorText(ENOENT))\n")
            return 1
        }
        let out = FDOutput(fd: 1)
        defer { _ = out.flush() }
        var list = store.read(folder)
        switch command {
        case "-list":
            for entry in list.entries { out.write("\(entry.identifier)\t\(entry.rights)\n") }
            return 0
        case "-compute":
            guard arguments.count >= 5 else { return usage() }
            let identities = Set(arguments[4...])
            out.write("\(list.compute { identities.contains($0) })\n")
            return 0
        case "-set":
            guard arguments.count >= 6 else { return usage() }
            let identifier = arguments[4], rights = arguments[5]
            let old = list.rights(of: identifier) ?? .none
            if rights.hasPrefix("+") {
                list.set(identifier, old.union(ACLRights(rights.dropFirst().utf8)))
            } else if rights.hasPrefix("-") {
                list.set(identifier, old.subtracting(ACLRights(rights.dropFirst().utf8)))
            } else {
                list.set(identifier, ACLRights(rights))
            }
        default:  // -delete
            guard arguments.count >= 5 else { return usage() }
            list.remove(arguments[4])
        }
        do {
            try store.write(list, for: folder, owner: "owner")
        } catch .invalid(.minimumRights(let who)) {
            printError("Trying to set invalid access rights for \(who)\n")
            return 1
        } catch .system(let error) {
            printError("\(maildirPath): \(error)\n")
            return 1
        } catch {
            // The administrators rule: Courier reports EINVAL.
            printError("\(maildirPath): \(SystemCall.errorText(EINVAL))\n")
            return 1
        }
        return 0
    }

    /// `INBOX` → nil-folder (INBOX), `INBOX.a.b` → the folder; nil (outer) for anything else.
    static func folder(_ text: String) -> FolderName?? {
        if text == "INBOX" { return .some(nil) }
        guard text.hasPrefix("INBOX.") else { return nil }
        if let target = try? FolderName.fromIMAP(text, utf8: false), case .folder(let f) = target { return .some(f) }
        if let target = try? FolderName.fromIMAP(text, utf8: true), case .folder(let f) = target { return .some(f) }
        return nil
    }

    static func usage() -> Int32 {
        let out = FDOutput(fd: 1)
        out.write("Usage: maildiracl [ options ] maildir [INBOX[.folder] [identifier rights]]\n")
        _ = out.flush()
        return 1
    }
}
