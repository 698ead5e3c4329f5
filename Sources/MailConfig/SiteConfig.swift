/// One network service as configured: whether it runs, where it listens, and every variable
/// of its files (for the service's own settings: `ESMTPAUTH`, `IMAP_CAPABILITY`, …).
public struct ListenerConfig: Sendable, Equatable {
    public var kind: ServiceKind
    /// The `*START` flag (defaults in `ConfigDefaults.startsByDefault`).
    public var enabled: Bool
    public var endpoints: [ListenEndpoint]
    /// The merged variables of `kind.configFiles`.
    public var variables: ConfigVariables
    /// `TLS_CERTFILE` (certificate and, unless `TLS_PRIVATE_KEYFILE` is set, the key).
    public var certificateFile: String?
    /// `TLS_PRIVATE_KEYFILE`, when the key is in a file of its own.
    public var privateKeyFile: String?

    public init(kind: ServiceKind, enabled: Bool, endpoints: [ListenEndpoint], variables: ConfigVariables,
                certificateFile: String?, privateKeyFile: String?) {
        self.kind = kind
        self.enabled = enabled
        self.endpoints = endpoints
        self.variables = variables
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
    }
}

/// A whole site's configuration, read and validated from a config root by `ConfigLoader`.
/// Values are typed and parsed once; services read them, never the files.
public struct SiteConfig: Sendable, Equatable {
    public var root: ConfigRoot
    /// `me`: this server's name (banner, `Received:`, DSNs).
    public var me: String
    /// `defaultdomain`: appended to unqualified addresses.
    public var defaultDomain: String
    /// `locals`: domains whose mail is for system accounts (domain removed).
    public var locals: [DomainPattern]
    /// `hosteddomains`: domains whose accounts are full `user@domain` names.
    public var hostedDomains: [DomainPattern]
    /// `esmtpacceptmailfor` and `esmtpacceptmailfor.dir`: domains SMTP accepts mail for.
    public var acceptMailFor: [DomainPattern]
    /// `esmtppercentrelay` and `esmtppercentrelay.dir`: domains SMTP clients may reach through
    /// the percent hack, `user%domain@ourdomain` (spec/mta.md §3.22).
    public var percentRelay: [DomainPattern] = []
    /// `aliases/` (all files, in name order).
    public var aliases: [AliasEntry]
    /// `smtpaccess/` (all files, in name order).
    public var smtpAccess: [AccessRule]
    /// `bofh`: sender/recipient policy for SMTP (defaults when the file is absent).
    public var bofh: BofhSettings = BofhSettings()
    /// `userdb` records (text form), empty when there is no userdb.
    public var userdb: [UserdbRecord]
    /// `queuetime` in seconds.
    public var queueTime: Int
    /// `warntime` in seconds: a delayed-mail warning goes to the sender once a message has been
    /// queued this long (spec/mta.md §3.12); 0 = never warn.
    public var warnTime: Int = ConfigDefaults.warnTime
    /// `dsnlimit` (spec/mta.md §3.15): a failure report returns the whole message only below this
    /// many bytes, else its header.
    public var dsnLimit: Int = ConfigDefaults.dsnLimit
    /// `sizelimit` in bytes; 0 means no limit.
    public var sizeLimit: Int
    /// `dsnfrom`: the `From:` value of delivery reports.
    public var dsnFrom: String
    /// `courierd`: the environment of the scheduler and delivery.
    public var courierd: ConfigVariables
    /// `MAILUSER`/`MAILGROUP` from `courierd`: who owns the mail.
    public var mailUser: String
    public var mailGroup: String
    /// `authdaemonrc`.
    public var authdaemon: ConfigVariables
    /// Every network service, in `ServiceKind` order.
    public var listeners: [ListenerConfig]
    /// Problems that do not stop the daemon, as FILE:LINE: reason: bad `userdb` lines, which
    /// are skipped (as Courier's makeuserdb does) while the other accounts work.
    public var warnings: [ConfigError] = []

    /// The services that will run.
    public var enabledListeners: [ListenerConfig] {
        listeners.filter(\.enabled)
    }

    public func listener(_ kind: ServiceKind) -> ListenerConfig? {
        listeners.first { $0.kind == kind }
    }
}
