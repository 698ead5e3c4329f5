import MailConfig
#if canImport(Glibc)
import Glibc
#endif

/// What `courier init` made, for printing.
public struct SiteReport: Sendable {
    public var root: ConfigRoot
    /// Every directory and file written, in order, as absolute paths.
    public var created: [String]
    public var owner: MailOwner
    /// The demo user's login names, when the demo site was made.
    public var demoLogins: [String]
}

/// Makes a ready config root (DESIGN.md "The config root"): `etc/` with Courier's files,
/// `var/queue/`, `var/log/`, `mail/`; with `demo`, the demo user, its Maildir and
/// the self-signed certificate the demo contract promises. The result is loaded back
/// with `ConfigLoader` before `make` returns, so a site it makes always starts.
public struct SiteInitializer {
    public let root: ConfigRoot
    public let options: SiteOptions
    private var created: [String] = []
    private let owner: MailOwner

    public init(root: ConfigRoot, options: SiteOptions) throws(SiteSetupError) {
        self.root = root
        self.options = options
        self.owner = try MailOwner.current()
    }

    /// True when `root` already holds a site (an `etc/` with files in it).
    public static func siteExists(at root: ConfigRoot) -> Bool {
        guard let directory = opendir(root.etc) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            // d_name is read in place up to its NUL: copying the whole 256-byte field reads past short
            // records at the end of readdir's buffer (a crash when that is the end of a page).
            let first = (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).load(as: UInt8.self)
            if first != UInt8(ascii: ".") { return true }
        }
        return false
    }

    public mutating func make() throws(SiteSetupError) -> SiteReport {
        let problems = options.validate()
        guard problems.isEmpty else { throw SiteSetupError(problems.joined(separator: "\n")) }
        if Self.siteExists(at: root), !options.force {
            throw SiteSetupError("\(root.etc) already holds a site; use --force to write its files again")
        }
        try makeParents(of: root.path)
        for directory in [root.path, root.etc, root.etc("aliases"), root.etc("smtpaccess"),
                          root.etc("esmtpacceptmailfor.dir"), root.path + "/var", root.mail] {
            try makeDirectory(directory, mode: 0o755)
        }
        try makeDirectory(root.queue, mode: 0o750)
        try makeDirectory(root.log, mode: 0o750)

        for (name, contents) in ControlFiles(options: options, owner: owner).all {
            try write(root.etc(name), contents, mode: 0o644)
        }
        for (name, contents) in ServiceFiles(options: options, etc: root.etc).all {
            try write(root.etc(name), contents, mode: 0o644)
        }
        try writeCertificates()
        var logins: [String] = []
        if options.demo {
            logins = try makeDemoUser()
        } else {
            try write(root.etc("userdb"), userdbHeader, mode: 0o600)
        }
        try handOver()
        do {
            _ = try ConfigLoader.load(root)
        } catch {
            throw SiteSetupError("the new site does not load (a bug in courier init):\n\(error)")
        }
        return SiteReport(root: root, created: created, owner: owner, demoLogins: logins)
    }

    // MARK: - Pieces

    private var userdbHeader: String {
        """
        # userdb: virtual accounts, one per line:
        #   name<TAB>uid=N|gid=N|home=DIR|mail=DIR/Maildir|systempw=HASH
        # systempw is a crypt(3) hash ($6$ or $y$). Keep this file mode 600.

        """
    }

    private mutating func writeCertificates() throws(SiteSetupError) {
        let certificate: SelfSignedCertificate
        do {
            var addresses = ["127.0.0.1", "::1"]
            if let address = options.address, !addresses.contains(address) { addresses.append(address) }
            certificate = try SelfSignedCertificate(
                commonName: options.hostName,
                dnsNames: Array(Set([options.hostName, "localhost", "mail." + options.domain])).sorted(),
                ipAddresses: addresses)
        } catch {
            throw SiteSetupError("could not make the TLS certificate: \(error)")
        }
        for name in Set([ServiceKind.esmtpd, .imapd, .pop3d].compactMap(ConfigDefaults.certificateFile)).sorted() {
            try write(root.etc(name), certificate.pem, mode: 0o600)
        }
    }

    /// The demo user (DESIGN.md demo contract): userdb records for `demo@DOMAIN` and `demo`
    /// (userdb has no aliases; `DEFDOMAIN` in the service files also maps `demo`), and the Maildir.
    private mutating func makeDemoUser() throws(SiteSetupError) -> [String] {
        let user = ConfigDefaults.demoUser
        let home = root.mail + "/" + options.domain + "/" + user
        let maildir = home + "/Maildir"
        try makeDirectory(root.mail + "/" + options.domain, mode: 0o755)
        try makeDirectory(home, mode: 0o700)
        try makeDirectory(maildir, mode: 0o700)
        for sub in ["cur", "new", "tmp"] {
            try makeDirectory(maildir + "/" + sub, mode: 0o700)
        }
        let hash = try PasswordHash.make(ConfigDefaults.demoPassword)
        let fields = [("uid", String(owner.uid)), ("gid", String(owner.gid)), ("home", home), ("mail", maildir), ("systempw", hash)]
        let address = user + "@" + options.domain
        let records = [address, user].map { UserdbRecord(name: $0, fields: fields, file: "userdb", line: 0).formatted }
        try write(root.etc("userdb"), userdbHeader + records.joined(separator: "\n") + "\n", mode: 0o600)
        return [address, user]
    }

    /// `mkdir -p` of the directories above the root, so `--root /srv/mail/site` works on a
    /// fresh machine (they are not reported as created site files).
    private func makeParents(of path: String) throws(SiteSetupError) {
        var prefix = ""
        let parts = path.split(separator: "/").dropLast()
        for part in parts {
            prefix += (prefix.isEmpty && !path.hasPrefix("/") ? "" : "/") + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw SiteSetupError("cannot make \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    private mutating func makeDirectory(_ path: String, mode: mode_t) throws(SiteSetupError) {
        if mkdir(path, mode) == 0 {
            created.append(path + "/")
        } else if errno != EEXIST {
            throw SiteSetupError("cannot make \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, mode)
    }

    private mutating func write(_ path: String, _ contents: String, mode: mode_t) throws(SiteSetupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SiteSetupError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw SiteSetupError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += count
        }
        fchmod(fd, mode)
        created.append(path)
    }

    /// Run as root: everything made belongs to the mail owner, so the daemon and deliveries
    /// never need uid 0 to read or write it.
    private func handOver() throws(SiteSetupError) {
        guard owner.needsChown else { return }
        for path in created {
            let bare = path.hasSuffix("/") ? String(path.dropLast()) : path
            if lchown(bare, owner.uid, owner.gid) != 0 {
                throw SiteSetupError("cannot give \(bare) to \(owner.user): \(String(cString: strerror(errno)))")
            }
        }
    }
}
