#if canImport(Glibc)
import Glibc
#endif
import IMAP
import MaildirCore

/// EXPUNGE and MOVE in a filesystem shared folder (spec/access.md §1.7 (B)), on Courier's model
/// (maildirmake(1) "Accessing shared folders"; `maildir_unlinksharedmsg`): the user's local copy
/// holds links to the sharable folder's files, and \Deleted is the user's own flag on their
/// link. Expunging a message removes the real file in the sharable folder when the user may,
/// then the link; when the user may not, the message stays and only loses its \Deleted flag.
/// Other users' copies drop the message at their next sync (its file is gone).
///
/// Who may remove a file, as the file system decides it for Courier's imapd running as the
/// user: one process serves every user here, so a visiting user counts as "others" on the
/// sharable folder. A folder others may not write (`maildirmake -s read`): nobody. Writable by
/// others without the sticky bit: anybody, any message. Writable with the sticky bit
/// (`-s write`: 1777): only the messages the user added, which this server notes in the
/// user's local copy (`courierswiftposted`, one base name a line, bounded: SharablePosts) when it adds them.
extension MailboxSession {
    /// The file in a local copy listing the base names its user added to the sharable folder.
    static let sharablePostsFile = SharablePosts.fileName

    /// Notes messages this user added to the sharable folder (they may expunge them later).
    func notePostedToSharable(_ baseNames: [String]) {
        SharablePosts.append(baseNames, folderPath: maildir.path, remote: sharableRemote)
    }

    /// The base names this user added to the sharable folder.
    func postedToSharable() -> Set<String> {
        SharablePosts.read(folderPath: maildir.path)
    }

    /// Whether this user may remove the sharable file `target` (a file in the sharable
    /// folder's cur/) named `baseName`: the directory's permissions for others, and the
    /// sticky bit's "only your own".
    func mayRemoveFromSharable(_ target: String, baseName: String, posted: inout Set<String>?) -> Bool {
        guard let slash = target.lastIndex(of: "/"), let st = SystemCall.status(String(target[..<slash])) else { return false }
        guard st.st_mode & 0o002 != 0 else { return false }
        guard st.st_mode & S_ISVTX != 0 else { return true }
        if posted == nil { posted = postedToSharable() }
        return posted?.contains(baseName) ?? false
    }

    /// What expunging one local link of a `shared.` folder does to the sharable folder: true
    /// when the link may go (the real file was removed, or was gone already, or the link is
    /// no link); false when the user may not remove the real file (the message stays).
    func removeFromSharable(_ fileName: MessageFileName, localDirectory: String, posted: inout Set<String>?) -> Bool {
        let local = localDirectory + "/cur/" + fileName.name
        guard let target = Self.linkTarget(local) else { return true }
        guard SystemCall.status(target) != nil else { return true }
        guard mayRemoveFromSharable(target, baseName: fileName.baseName, posted: &posted) else { return false }
        return unlink(target) == 0 || errno == ENOENT
    }

    /// A \Deleted message of a `shared.` folder that the user may not remove: its link loses
    /// the T flag (as Courier renames it) and the client hears of the change.
    func keepUndeleted(_ m: inout Message, at index: Int, report: Bool, into w: inout ResponseWriter) {
        let letters = (m.letters ?? MessageFlags()).removing(UInt8(ascii: "T"))
        if let renamed = try? maildir.setFlags(folder: nil, fileName: m.fileName, flags: letters) {
            if let directory = selected?.directory {
                RenamedFiles.shared.note(directory: directory, baseName: renamed.baseName, name: renamed.name)
            }
            m.fileName = renamed
            if report { writeFlagsFetch(index, m, into: &w) }
        }
    }

    /// MOVE out of a `shared.` folder (RFC 6851 §3.3) moves only what the user may remove
    /// from the sharable folder; nil when every chosen message may go, else the NO to send.
    func sharableMoveRefusal(_ indices: [Int]) -> String? {
        guard sharableRemote != nil, let s = selected else { return nil }
        var posted: Set<String>?
        for index in indices where index < s.messages.count {
            let m = s.messages[index]
            let local = s.directory + "/cur/" + m.fileName.name
            guard let target = Self.linkTarget(local), SystemCall.status(target) != nil else { continue }
            if !mayRemoveFromSharable(target, baseName: m.fileName.baseName, posted: &posted) {
                return "Only messages you may remove from the shared folder can be moved."
            }
        }
        return nil
    }

    /// The sharable half of MOVE's expunge: the real files of the moved links are removed.
    func removeMovedFromSharable(_ indices: [Int]) {
        guard sharableRemote != nil, let s = selected else { return }
        var posted: Set<String>?
        for index in indices where index < s.messages.count {
            var m = s.messages[index]
            if let p = filePath(m), let last = p.split(separator: "/").last { m.fileName = MessageFileName(String(last)) }
            _ = removeFromSharable(m.fileName, localDirectory: s.directory, posted: &posted)
        }
    }

    /// SELECT or EXAMINE.
    static func opensMailbox(_ command: Command) -> Bool {
        switch command {
        case .select, .examine: true
        default: false
        }
    }
}
