import MailConfig

/// The contents of the control files `courier init` writes (spec/mta.md §3): one-line files,
/// domain lists, the alias and access directories, `courierd` and `authdaemonrc`.
struct ControlFiles {
    let options: SiteOptions
    let owner: MailOwner

    /// Relative path under `etc/` → contents.
    var all: [(String, String)] {
        [
            ("me", options.hostName + "\n"),
            ("defaultdomain", options.domain + "\n"),
            ("locals", locals),
            ("hosteddomains", hostedDomains),
            ("esmtpacceptmailfor.dir/default", acceptMailFor),
            ("aliases/system", aliases),
            ("smtpaccess/default", smtpAccess),
            ("queuetime", "1w\n"),
            ("warntime", "4h\n"),
            ("sizelimit", "\(ConfigDefaults.sizeLimit)\n"),
            ("dsnfrom", ConfigDefaults.dsnFrom(me: options.hostName) + "\n"),
            ("courierd", courierd),
            ("authdaemonrc", authdaemonrc),
        ]
    }

    var locals: String {
        """
        # locals: domains whose mail goes to accounts of this machine, with the domain
        # removed (user@localhost is the account "user"). One domain per line; .domain means
        # every subdomain; !host excludes a host that a later line would include.
        # Domains of virtual users belong in hosteddomains instead.

        localhost
        \(options.hostName)

        """
    }

    var hostedDomains: String {
        """
        # hosteddomains: domains whose accounts are full addresses (user@domain is looked up
        # as "user@domain" in userdb). "alias<TAB>domain" delivers alias's mail to domain.

        \(options.domain)

        """
    }

    var acceptMailFor: String {
        """
        # esmtpacceptmailfor.dir: domains for which the SMTP server accepts mail from anyone.
        # List every local and hosted domain here, plus domains this server is a backup MX for.
        # All files in this directory are read in file-name order.

        \(options.domain)
        \(options.hostName)
        localhost

        """
    }

    var aliases: String {
        let postmaster = options.demo
            ? "postmaster: \(ConfigDefaults.demoUser)@\(options.domain)"
            : "# postmaster: you@\(options.domain)"
        return """
        # aliases/system: mail for these names goes to the addresses after the colon.
        # Format: name: address, address... ; a line that starts with a blank continues the
        # previous alias. Mail is never delivered to root: set postmaster to a real mailbox.
        # All files in this directory are read in file-name order.

        root: postmaster
        mailer-daemon: postmaster
        MAILER-DAEMON: postmaster
        uucp: postmaster
        \(postmaster)

        """
    }

    var smtpAccess: String {
        """
        # smtpaccess/default: what SMTP clients may do, by address.
        # Format: <netblock><TAB>allow[,VAR[=value]...]  or  <netblock><TAB>deny
        # A netblock is 1.2.3.4, a prefix such as 192.168, or :-prefixed IPv6 groups; the
        # most specific line wins. allow,RELAYCLIENT lets a client relay without logging in.
        #
        # Nobody relays without authentication here, loopback included (unlike Courier's
        # default file, which lets 127.0.0.1 relay). To let a trusted host relay, add e.g.
        # 192.168.1.10\tallow,RELAYCLIENT

        127.0.0.1\tallow
        :0000:0000:0000:0000:0000:0000:0000:0001\tallow

        """
    }

    var courierd: String {
        var file = VariableFileWriter(title: "courierd: settings of the mail scheduler and local delivery", about: [
            "Read by courier start; every program it runs for a delivery sees these variables.",
        ])
        file.setting("MAILUSER", owner.user, doc: [
            "The user and group that own the queue and the mail of virtual users.",
            "Deliveries for virtual users run as this user, never as root.",
        ])
        file.setting("MAILGROUP", owner.group, doc: [])
        file.setting("DEFAULTDELIVERY", "./Maildir", doc: [
            "Where mail goes when an account has no .courier file: relative to its home.",
        ])
        file.setting("DSNTOAUTHADDR", "1", doc: [
            "1: bounces of mail sent by a logged-in SMTP user go to that user's address.",
        ])
        file.setting("DYNAMICDELIVERIES", "1", doc: [
            "0 turns off || dynamic delivery instructions in .courier files.",
        ])
        file.setting("ESMTP_USE_STARTTLS", "1", doc: [
            "1: use STARTTLS when a remote server offers it.",
        ])
        file.setting("ESMTP_TLS_VERIFY_DOMAIN", "0", doc: [
            "1: check the remote server's certificate name (needs TLS_VERIFYPEER=PEER).",
        ])
        return file.contents
    }

    var authdaemonrc: String {
        var file = VariableFileWriter(title: "authdaemonrc: how logins are checked", about: [
            "Used by SMTP AUTH, IMAP, POP3 and webmail logins and by local delivery lookups.",
        ])
        file.setting("authmodulelist", "authuserdb", doc: [
            "Account sources, tried in order: authuserdb (the userdb file), authpgsql.",
        ])
        file.setting("daemons", "5", doc: ["How many authdaemon socket requests are worked on at once (Courier: its number of worker processes); 1 to 1000."])
        file.setting("authdaemonvar", "var/run/authdaemon", doc: [
            "Directory of the authdaemon socket (\"socket\" in it) that courier start serves for tools;",
            "relative to the config root unless it starts with /.",
        ])
        file.setting("DEBUG_LOGIN", "0", doc: ["1: log login lookups; 2: also log passwords (never in production)."])
        file.setting("DEFAULTOPTIONS", "", doc: ["Account options applied when an account sets none (e.g. disableshared=1)."])
        return file.contents
    }
}
