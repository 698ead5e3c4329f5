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

    /// `name:password:uid:gid:gecos:home:shell` lines, read as glibc's files module reads
    /// them: blanks before the name, empty lines and `#` comments skipped; the shell may be
    /// missing and is the rest of the line (colons included); a uid or gid that is not a
    /// decimal number drops the line. NIS `+`/`-` entries are skipped (glibc would take
    /// `+name::::::` for uid 0).
    static func parse(_ bytes: [UInt8]) -> [PasswdEntry] {
        var entries: [PasswdEntry] = []
        for var line in bytes.split(separator: 0x0A) {
            while let c = line.first, c == 0x20 || c == 0x09 { line = line.dropFirst() }
            guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "+"),
                  first != UInt8(ascii: "-") else { continue }
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count >= 6, let uid = number(fields[2]), let gid = number(fields[3]) else { continue }
            entries.append(PasswdEntry(name: String(decoding: fields[0], as: UTF8.self), uid: uid_t(uid), gid: gid_t(gid),
                                       home: String(decoding: fields[5], as: UTF8.self),
                                       shell: fields.count > 6 ? String(decoding: fields[6], as: UTF8.self) : ""))
        }
        return entries
    }

    /// A uid or gid field as strtoul reads it whole: blanks, an optional `+`, decimal digits.
    static func number(_ field: ArraySlice<UInt8>) -> UInt32? {
        var digits = field
        while let c = digits.first, c == 0x20 || c == 0x09 { digits = digits.dropFirst() }
        if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt32(String(decoding: digits, as: UTF8.self))
    }

    static func all() -> [PasswdEntry] {
        ByteInput.readFile(file).map(parse) ?? []
    }
}
