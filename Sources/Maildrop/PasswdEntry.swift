#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ToolSupport

/// The fields of a passwd entry maildrop uses, read from `/etc/passwd` itself. The release
/// build of maildrop is a static binary: glibc's getpwnam there loads the NSS modules of
/// nsswitch.conf (`systemd`, `sss`…) built for the shared libc, and such a module can crash
/// the process (seen with libnss_systemd for a name not in the file). Accounts that only a
/// directory service knows reach maildrop through authlib (userdb, the authdaemon) instead.
struct PasswdEntry {
    var name: String
    var uid: uid_t
    var gid: gid_t
    var home: String
    var shell: String

    static let file = "/etc/passwd"

    init?(uid: uid_t) {
        guard let entry = Self.all().first(where: { $0.uid == uid }) else { return nil }
        self = entry
    }

    init?(name: String) {
        guard !name.isEmpty, let entry = Self.all().first(where: { $0.name == name }) else { return nil }
        self = entry
    }

    private init(name: String, uid: uid_t, gid: gid_t, home: String, shell: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
    }

    /// `name:password:uid:gid:gecos:home:shell` lines; malformed lines and NIS `+`/`-` entries
    /// are skipped.
    static func parse(_ bytes: [UInt8]) -> [PasswdEntry] {
        var entries: [PasswdEntry] = []
        for line in bytes.split(separator: 0x0A) {
            let fields = line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard fields.count >= 7, let first = fields[0].first, first != UInt8(ascii: "+"), first != UInt8(ascii: "-"),
                  let uid = UInt32(String(decoding: fields[2], as: UTF8.self)),
                  let gid = UInt32(String(decoding: fields[3], as: UTF8.self)) else { continue }
            entries.append(PasswdEntry(name: String(decoding: fields[0], as: UTF8.self), uid: uid_t(uid), gid: gid_t(gid),
                                       home: String(decoding: fields[5], as: UTF8.self),
                                       shell: String(decoding: fields[6], as: UTF8.self)))
        }
        return entries
    }

    static func all() -> [PasswdEntry] {
        ByteInput.readFile(file).map(parse) ?? []
    }
}
