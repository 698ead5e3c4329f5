#if canImport(Glibc)
import Glibc
#endif

/// Who owns the mail of virtual users (`MAILUSER`/`MAILGROUP`): the user running `courier init`,
/// or Debian's `mail` user when that is root, so nothing a message triggers runs as uid 0
/// (DESIGN.md "The config root").
public struct MailOwner: Sendable, Equatable {
    public var user: String
    public var group: String
    public var uid: UInt32
    public var gid: UInt32

    public init(user: String, group: String, uid: UInt32, gid: UInt32) {
        self.user = user
        self.group = group
        self.uid = uid
        self.gid = gid
    }

    /// True when the files must be handed over (`init` ran as root).
    public var needsChown: Bool { getuid() == 0 }

    /// The owner for a site made by the current process.
    public static func current() throws(SiteSetupError) -> MailOwner {
        if getuid() == 0 {
            guard let entry = getpwnam("mail") else {
                throw SiteSetupError("running as root, but there is no 'mail' user to own the mail; create it or run as another user")
            }
            let uid = entry.pointee.pw_uid
            let gid = entry.pointee.pw_gid
            return MailOwner(user: "mail", group: groupName(gid) ?? "mail", uid: uid, gid: gid)
        }
        let uid = getuid()
        let gid = getgid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else {
            throw SiteSetupError("the current user (uid \(uid)) has no name in the password database")
        }
        return MailOwner(user: String(cString: name), group: groupName(gid) ?? String(gid), uid: uid, gid: gid)
    }

    static func groupName(_ gid: gid_t) -> String? {
        guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return nil }
        return String(cString: name)
    }
}

/// Why `courier init` could not make a site.
public struct SiteSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
