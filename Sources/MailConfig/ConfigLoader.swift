#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole config root into a `SiteConfig`, checking everything it can, and reports
/// every problem found (not just the first) as `FILE:LINE: reason` (`ConfigLoadError`).
public struct ConfigLoader {
    public let root: ConfigRoot
    /// The system host name, for `me` and `*` in domain lists.
    public var hostName: String
    private var errors: [ConfigError] = []
    private var warnings: [ConfigError] = []

    public init(root: ConfigRoot, hostName: String? = nil) {
        self.root = root
        self.hostName = hostName ?? FileAccess.hostName()
    }

    /// Loads and validates the root.
    public static func load(_ root: ConfigRoot) throws(ConfigLoadError) -> SiteConfig {
        var loader = ConfigLoader(root: root)
        return try loader.load()
    }

    public mutating func load() throws(ConfigLoadError) -> SiteConfig {
        errors = []
        warnings = []
        guard FileAccess.kind(root.etc) == .directory else {
            throw ConfigLoadError([ConfigError(
                file: root.etc, line: nil,
                reason: "no such directory; make a site with: courier init --root \(root.path) --domain DOMAIN")])
        }
        let me = expandHost(oneLine("me") ?? hostName)
        if !DomainListParser.isDomainName(me) {
            report(ConfigError(file: root.etc("me"), line: 1, reason: "'\(me)' is not a host name"))
        }
        let defaultDomain = oneLine("defaultdomain") ?? me
        if !DomainListParser.isDomainName(defaultDomain) {
            report(ConfigError(file: root.etc("defaultdomain"), line: 1, reason: "'\(defaultDomain)' is not a domain"))
        }
        let locals = domains("locals", hosted: false)
            ?? [DomainPattern(kind: .exact, domain: me, file: root.etc("me"), line: 1)]
        let hosted = domains("hosteddomains", hosted: true) ?? []
        let accept = (domains("esmtpacceptmailfor", hosted: false) ?? [])
            + (domains("esmtpacceptmailfor.dir", hosted: false) ?? [])
        let percentRelay = (domains("esmtppercentrelay", hosted: false) ?? [])
            + (domains("esmtppercentrelay.dir", hosted: false) ?? [])
        let aliases: [AliasEntry] = parseSource("aliases") { bytes, file throws(ConfigError) in
            try AliasFileParser.parse(bytes, file: file)
        } ?? []
        let access: [AccessRule] = parseSource("smtpaccess") { bytes, file throws(ConfigError) in
            try AccessFileParser.parse(bytes, file: file)
        } ?? []
        let userdb = readUserdb()
        var bofh = BofhSettings()
        do {
            if let bytes = try FileAccess.read(root.etc("bofh")) { bofh = try BofhParser.parse(bytes, file: root.etc("bofh")) }
        } catch {
            report(error)
        }

        let queueTime = interval("queuetime", default: ConfigDefaults.queueTime)
        let warnTime = interval("warntime", default: ConfigDefaults.warnTime)
        let sizeLimit = byteCount("sizelimit", default: ConfigDefaults.sizeLimit)
        let dsnFrom = oneLine("dsnfrom") ?? ConfigDefaults.dsnFrom(me: me)
        let dsnLimit = byteCount("dsnlimit", default: ConfigDefaults.dsnLimit)

        let courierd = variables(["courierd"])
        let mailUser = courierd["MAILUSER"] ?? ConfigDefaults.mailUser
        let mailGroup = courierd["MAILGROUP"] ?? ConfigDefaults.mailGroup
        if getpwnam(mailUser) == nil {
            report(courierd.error("MAILUSER", "MAILUSER=\(mailUser): no such user"))
        }
        if getgrnam(mailGroup) == nil {
            report(courierd.error("MAILGROUP", "MAILGROUP=\(mailGroup): no such group"))
        }
        let authdaemon = variables(["authdaemonrc"])
        var listeners: [ListenerConfig] = []
        for kind in ServiceKind.allCases { listeners.append(listener(kind)) }
        checkConflicts(listeners)

        guard errors.isEmpty else { throw ConfigLoadError(errors) }
        var site = SiteConfig(
            root: root, me: me, defaultDomain: defaultDomain, locals: locals, hostedDomains: hosted,
            acceptMailFor: accept, aliases: aliases, smtpAccess: access, userdb: userdb,
            queueTime: queueTime, sizeLimit: sizeLimit, dsnFrom: dsnFrom, courierd: courierd,
            mailUser: mailUser, mailGroup: mailGroup, authdaemon: authdaemon, listeners: listeners,
            warnings: warnings)
        site.bofh = bofh
        site.warnTime = warnTime
        site.dsnLimit = dsnLimit
        site.percentRelay = percentRelay
        return site
    }

    // MARK: - Pieces

    private mutating func report(_ error: ConfigError) {
        if !errors.contains(error) { errors.append(error) }
    }

    /// `*.example.com` in `me`: `*` becomes the host name.
    private func expandHost(_ name: String) -> String {
        name.hasPrefix("*.") ? hostName + name.dropFirst() : name
    }

    private mutating func oneLine(_ name: String) -> String? {
        do {
            guard let bytes = try FileAccess.read(root.etc(name)) else { return nil }
            return ListFileParser.firstLine(bytes)
        } catch {
            report(error)
            return nil
        }
    }

    private mutating func interval(_ name: String, default fallback: Int) -> Int {
        guard let text = oneLine(name) else { return fallback }
        guard let seconds = IntervalParser.seconds(text) else {
            report(ConfigError(file: root.etc(name), line: 1, reason: "'\(text)' is not a time such as 1w, 3d or 12h"))
            return fallback
        }
        return seconds
    }

    private mutating func byteCount(_ name: String, default fallback: Int) -> Int {
        guard let text = oneLine(name) else { return fallback }
        guard let value = Int(text.trimmingBlanks), value >= 0 else {
            report(ConfigError(file: root.etc(name), line: 1, reason: "'\(text)' is not a size in bytes"))
            return fallback
        }
        return value
    }

    /// A file-or-directory source parsed file by file; nil when it does not exist.
    private mutating func parseSource<Item>(
        _ name: String, limit: Int = ConfigLimits.maxFileBytes, _ parse: ([UInt8], String) throws(ConfigError) -> [Item]
    ) -> [Item]? {
        let parts: [(String, [UInt8])]
        do {
            guard let found = try FileAccess.readSource(root.etc(name), limit: limit) else { return nil }
            parts = found
        } catch {
            report(error)
            return nil
        }
        var items: [Item] = []
        for (file, bytes) in parts {
            do {
                items += try parse(bytes, file)
            } catch {
                report(error)
            }
        }
        return items
    }

    private mutating func domains(_ name: String, hosted: Bool) -> [DomainPattern]? {
        parseSource(name) { bytes, file throws(ConfigError) in
            try DomainListParser.parse(bytes, file: file, hosted: hosted)
        }
    }

    private mutating func readUserdb() -> [UserdbRecord] {
        let path = root.etc("userdb")
        if FileAccess.kind(path) == .file, let mode = FileAccess.mode(path), mode & 0o077 != 0 {
            report(ConfigError(file: path, line: nil,
                               reason: "holds password hashes but others may read it; run chmod 600 \(path)"))
        }
        // A big site's userdb is far larger than a config file (100,000 accounts: ~15 MB).
        // A bad line is skipped and reported, the other accounts still work (makeuserdb does
        // the same); only an unreadable or oversized file stops the daemon.
        var skipped: [ConfigError] = []
        let records: [UserdbRecord] = parseSource("userdb", limit: ConfigLimits.maxUserdbBytes) { bytes, file throws(ConfigError) -> [UserdbRecord] in
            let result = try UserdbParser.parseReporting(bytes, file: file)
            skipped += result.errors
            return result.records.filter { !$0.isUidMapping }
        } ?? []
        warnings += skipped
        return records
    }

    /// Variable files read in order, each seeing the previous ones' values.
    private mutating func variables(_ names: [String]) -> ConfigVariables {
        var merged = ConfigVariables()
        for name in names {
            let path = root.etc(name)
            do {
                guard let bytes = try FileAccess.read(path) else { continue }
                let parsed = try VariableFileParser.parse(bytes, file: path, environment: merged.environment)
                merged.merge(parsed, file: path)
            } catch {
                report(error)
            }
        }
        return merged
    }

    private mutating func listener(_ kind: ServiceKind) -> ListenerConfig {
        let ownPath = root.etc(kind.ownFile)
        let variables = variables(kind.configFiles)
        let configured = FileAccess.kind(ownPath) == .file
        var enabled = false
        var endpoints: [ListenEndpoint] = []
        do throws(ConfigError) {
            if configured {
                enabled = try variables.bool(kind.startVariable, default: ConfigDefaults.startsByDefault(kind))
            }
            endpoints = try ListenSpec.endpoints(for: kind, in: variables, defaultPort: ConfigDefaults.courierPort(kind))
        } catch {
            if configured { report(error) }
        }
        let certificate = variables["TLS_CERTFILE"].map(resolve)
        let key = variables["TLS_PRIVATE_KEYFILE"].map(resolve)
        if enabled, kind.isImplicitTLS {
            if let certificate {
                if !FileAccess.isReadable(certificate) {
                    report(variables.error("TLS_CERTFILE", "TLS_CERTFILE=\(certificate): file missing or unreadable; \(kind.rawValue) needs a certificate"))
                }
            } else {
                report(ConfigError(file: ownPath, line: nil, reason: "TLS_CERTFILE is not set; \(kind.rawValue) needs a certificate"))
            }
            if let key, !FileAccess.isReadable(key) {
                report(variables.error("TLS_PRIVATE_KEYFILE", "TLS_PRIVATE_KEYFILE=\(key): file missing or unreadable"))
            }
        }
        return ListenerConfig(kind: kind, enabled: enabled, endpoints: endpoints, variables: variables,
                              certificateFile: certificate, privateKeyFile: key)
    }

    /// Relative paths in variable files are relative to `etc/`.
    private func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : root.etc(path)
    }

    /// Two running services cannot listen on the same port.
    private mutating func checkConflicts(_ listeners: [ListenerConfig]) {
        var taken: [(ServiceKind, ListenEndpoint)] = []
        for listener in listeners where listener.enabled {
            for endpoint in listener.endpoints {
                if let clash = taken.first(where: { $0.1.overlaps(endpoint) }) {
                    report(listener.variables.error(
                        listener.kind.portVariable,
                        "\(listener.kind.rawValue) would listen on \(endpoint), which \(clash.0.rawValue) already uses"))
                }
                taken.append((listener.kind, endpoint))
            }
        }
    }
}
