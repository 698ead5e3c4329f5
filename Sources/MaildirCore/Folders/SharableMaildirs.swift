#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Courier's filesystem shared folders (access.md §1.7 (B)): sharable maildirs named in the
/// system file (`maildirshared`) and the user's `shared-maildirs` (`nick<TAB>/path` lines, what
/// `maildirmake --add` writes), seen over IMAP as `shared.<nick>.<folder>`. A subscribed folder
/// is a local maildir `shared-folders/<nick>/<folder>` of the user, with a `shared` symlink to
/// the sharable folder and one symlink per message (so flags are per user); `sync` brings it up
/// to date, as Courier's imapd does when the folder is opened (observed layout).
public struct SharableMaildirs: Sendable {
    public let maildir: Maildir
    /// The site-wide list (Courier: `SYSCONFDIR/maildirshared`), read before the user's.
    public let systemFile: String?

    public static let userFile = "shared-maildirs"
    public static let localDirectory = "shared-folders"

    public init(maildir: Maildir, systemFile: String?) {
        self.maildir = maildir
        self.systemFile = systemFile
    }

    /// Courier's line syntax: `#` starts a comment; the first two words are the nick and the path.
    public static func parse(_ bytes: [UInt8]) -> [(nick: String, path: String)] {
        var result: [(String, String)] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            var text = line
            if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard words.count >= 2, !words[0].contains("."), !words[0].contains("/") else { continue }
            result.append((String(words[0]), String(words[1])))
        }
        return result
    }

    /// Every sharable maildir, the system file's first; a nick counts once. Only maildirs
    /// that everybody may read count (`o+rx`, as `maildirmake -S` makes them): Courier's imapd
    /// runs as the user and the file system decides, while one server process reads for every
    /// user, so a `shared-maildirs` line can never open another account's private Maildir.
    public func entries() -> [(nick: String, path: String)] {
        var result: [(nick: String, path: String)] = []
        for file in [systemFile, maildir.path + "/" + Self.userFile].compactMap({ $0 }) {
            guard let bytes = try? SystemCall.readFile(file, limit: 1 << 20) else { continue }
            for entry in Self.parse(bytes) where !result.contains(where: { $0.nick == entry.nick }) && Self.isPublic(entry.path) {
                result.append(entry)
            }
        }
        return result
    }

    /// Readable and searchable by others (and a directory).
    public static func isPublic(_ path: String) -> Bool {
        guard let st = SystemCall.status(path), (st.st_mode & S_IFMT) == S_IFDIR else { return false }
        return st.st_mode & 0o005 == 0o005
    }

    /// The sharable folders of a sharable maildir: its folders that everybody may read.
    public static func folders(of path: String) -> [FolderName] {
        let sharable = Maildir(path: path)
        return sharable.folders().filter { isPublic(sharable.directory(of: $0)) }
    }

    public func path(of nick: String) -> String? { entries().first { $0.nick == nick }?.path }

    /// The user's copy of a subscribed sharable folder.
    public func localPath(nick: String, folder: FolderName) -> String {
        maildir.path + "/" + Self.localDirectory + "/" + nick + "/" + folder.name
    }

    public func isSubscribed(nick: String, folder: FolderName) -> Bool {
        SystemCall.linkStatus(localPath(nick: nick, folder: folder) + "/shared") != nil
    }

    /// Creates the local copy (`tmp`, `new`, `cur` and the `shared` symlink to the folder).
    public func subscribe(nick: String, folder: FolderName) throws(MaildirError) {
        guard let sharable = path(of: nick), Self.isPublic(sharable + "/" + folder.directoryName) else {
            throw .notFound(nick)
        }
        let top = maildir.path + "/" + Self.localDirectory
        for dir in [top, top + "/" + nick] where !SystemCall.isDirectory(dir) {
            try SystemCall.makeDirectory(dir, mode: 0o700)
        }
        let local = localPath(nick: nick, folder: folder)
        if isSubscribed(nick: nick, folder: folder) { return }
        if !SystemCall.isDirectory(local) { try SystemCall.makeDirectory(local, mode: 0o700) }
        for sub in ["tmp", "new", "cur"] where !SystemCall.isDirectory(local + "/" + sub) {
            try SystemCall.makeDirectory(local + "/" + sub, mode: 0o700)
        }
        if symlink(sharable + "/" + folder.directoryName, local + "/shared") != 0 && errno != EEXIST {
            throw SystemCall.failure("symlink", local + "/shared")
        }
    }

    /// Removes the local copy (the sharable folder is not touched).
    public func unsubscribe(nick: String, folder: FolderName) throws(MaildirError) {
        try SystemCall.removeTree(localPath(nick: nick, folder: folder))
        _ = rmdir(maildir.path + "/" + Self.localDirectory + "/" + nick)
    }

    /// Brings a subscribed local copy up to date: the sharable folder's new/ mail moves to its
    /// cur/ (errors ignored: it may not be ours to move), local messages whose original is gone
    /// are removed, and originals missing locally get a symlink in the local new/.
    public func sync(nick: String, folder: FolderName) {
        let local = localPath(nick: nick, folder: folder)
        guard let remote = path(of: nick).map({ $0 + "/" + folder.directoryName }), Self.isPublic(remote) else { return }
        for name in SystemCall.names(in: remote + "/new") where !name.hasPrefix(".") {
            _ = rename(remote + "/new/" + name, remote + "/cur/" + name + (name.contains(":") ? "" : ":2,"))
        }
        var originals: [String: String] = [:]
        for name in SystemCall.names(in: remote + "/cur") where !name.hasPrefix(".") {
            originals[MessageFileName.baseName(of: name)] = name
        }
        var present = Set<String>()
        for sub in ["cur", "new"] {
            for name in SystemCall.names(in: local + "/" + sub) where !name.hasPrefix(".") {
                let base = MessageFileName.baseName(of: name)
                if originals[base] == nil {
                    _ = unlink(local + "/" + sub + "/" + name)
                } else {
                    present.insert(base)
                }
            }
        }
        for (base, name) in originals where !present.contains(base) {
            _ = symlink(remote + "/cur/" + name, local + "/new/" + base)
        }
    }
}
