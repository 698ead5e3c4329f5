#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where Courier keeps ACLs in a Maildir++ (access.md §1.6): `courierimapacl` in each folder's
/// directory (INBOX: the top directory), and `courierimaphieracl/<name>` for hierarchy names
/// that are not folders (yet). Reading a folder without a file inherits its parent's ACL and
/// saves it for the folder, as Courier does; writing goes through `tmp/`, fsync and rename.
public struct FolderACLStore: Sendable {
    public let maildir: Maildir

    public static let fileName = "courierimapacl"
    public static let hierarchyDirectory = "courierimaphieracl"

    public init(maildir: Maildir) { self.maildir = maildir }

    /// Why an ACL could not be saved.
    public enum WriteError: Error, Equatable, Sendable {
        case invalid(ACLValidationError)
        case system(MaildirError)
    }

    // MARK: paths

    /// The folder's directory (`nil`: INBOX, the maildir itself).
    func directory(_ folder: FolderName?) -> String { maildir.directory(of: folder) }

    /// `courierimaphieracl/<on-disk name without the leading dot>`.
    func hierarchyFile(_ folder: FolderName) -> String {
        maildir.path + "/" + Self.hierarchyDirectory + "/" + folder.name
    }

    // MARK: read

    /// The folder's ACL: its own file; else a `courierimaphieracl` entry (moved into the folder
    /// when the folder exists); else the parent's ACL (INBOX's default at the top), which is then
    /// saved for this folder. A file that cannot be read counts as absent.
    public func read(_ folder: FolderName?) -> ACLList {
        if let own = readOwn(folder) { return own }
        guard let folder else { return ACLList.inboxDefault }
        let inherited = read(folder.parent)
        // Courier saves the inherited list at once, so a later change of the parent's ACL
        // does not change this folder's. Failing to save (read-only store) still answers.
        try? write(inherited, for: folder, owner: "")
        return inherited
    }

    /// The folder's own ACL file (or hierarchy entry), nil if there is none.
    func readOwn(_ folder: FolderName?) -> ACLList? {
        let file = directory(folder) + "/" + Self.fileName
        if let bytes = try? SystemCall.readFile(file, limit: 1 << 20) { return ACLList.parse(bytes) }
        guard let folder else { return nil }
        let hierarchy = hierarchyFile(folder)
        if SystemCall.isDirectory(directory(folder)) {
            // The hierarchy name became a folder: its ACL moves in (fails harmlessly when absent).
            _ = rename(hierarchy, file)
            if let bytes = try? SystemCall.readFile(file, limit: 1 << 20) { return ACLList.parse(bytes) }
        }
        if let bytes = try? SystemCall.readFile(hierarchy, limit: 1 << 20) { return ACLList.parse(bytes) }
        return nil
    }

    // MARK: write

    /// Saves the folder's ACL after Courier's checks (`owner` is the folder owner's identifier,
    /// `user=<login>`, or empty). An existing folder gets `courierimapacl`; a name that is only
    /// a hierarchy node gets `courierimaphieracl/<name>`.
    public func write(_ list: ACLList, for folder: FolderName?, owner: String) throws(WriteError) {
        do {
            try list.validate(owner: owner)
        } catch {
            throw .invalid(error)
        }
        let dir = directory(folder)
        let target: String
        let temporaryDirectory: String
        if SystemCall.isDirectory(dir + "/tmp") {
            target = dir + "/" + Self.fileName
            temporaryDirectory = dir + "/tmp"
        } else if let folder {
            let hierarchy = maildir.path + "/" + Self.hierarchyDirectory
            if !SystemCall.isDirectory(hierarchy) { _ = mkdir(hierarchy, 0o755) }
            target = hierarchyFile(folder)
            temporaryDirectory = maildir.path + "/tmp"
        } else {
            throw .system(.notFound(dir))
        }
        let t = SystemCall.now()
        let temporary = temporaryDirectory + "/\(t.seconds).M\(t.microseconds)P\(getpid())_acl.\(UniqueName.escapeHost(SystemCall.hostName()))"
        do {
            try SystemCall.replaceFile(target, temporaryPath: temporary, bytes: list.serialized, mode: 0o644)
            let parent = String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])
            try? SystemCall.syncDirectory(parent)
        } catch {
            throw .system(error)
        }
    }

    // MARK: delete and clean-up

    /// Forgets a folder's ACL (its file and its hierarchy entry): for DELETE and `maildiracl`.
    public func remove(_ folder: FolderName?) {
        _ = unlink(directory(folder) + "/" + Self.fileName)
        if let folder { _ = unlink(hierarchyFile(folder)) }
    }

    /// `maildiracl -reset`: removes hierarchy entries no folder lies below any more, once they
    /// are an hour old (a CREATE may be racing). Creates the directory if it is missing.
    public func resetHierarchy(now: Int64 = SystemCall.now().seconds) {
        let hierarchy = maildir.path + "/" + Self.hierarchyDirectory
        guard var names = SystemCall.listDirectory(hierarchy)?.map(\.name) else {
            _ = mkdir(hierarchy, 0o755)
            return
        }
        names.removeAll { $0.hasPrefix(".") }
        let folders = maildir.folders().map(\.name)
        for name in names where !folders.contains(where: { $0.hasPrefix(name + ".") }) {
            let path = hierarchy + "/" + name
            if let st = SystemCall.status(path), Int64(st.st_mtim.tv_sec) < now - 3600 {
                _ = unlink(path)
            }
        }
    }
}
