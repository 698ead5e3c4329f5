import MailConfig

/// The contents of the service files `courier init` writes: Courier's `esmtpd`, `esmtpd-msa`,
/// `esmtpd-ssl`, `imapd`, `imapd-ssl`, `pop3d`, `pop3d-ssl` (spec/mta.md §2.2, spec/access.md
/// §2.7, §2.8, §3.5) and our `webmail`, `webadmin`, `metrics`. Ports follow the demo contract
/// (plus the offset) unless standard ports were asked for.
struct ServiceFiles {
    let options: SiteOptions
    /// Absolute path of `etc/` (TLS_CERTFILE values are absolute, as in Courier).
    let etc: String

    var all: [(String, String)] {
        [
            ("esmtpd", esmtpd), ("esmtpd-msa", esmtpdMSA), ("esmtpd-ssl", esmtpdSSL),
            ("imapd", imapd), ("imapd-ssl", imapdSSL), ("pop3d", pop3d), ("pop3d-ssl", pop3dSSL),
            ("webmail", webmail), ("webadmin", webadmin), ("metrics", metrics),
        ]
    }

    private var address: String { options.addressValue }
    private var defaultDomain: String { "@" + options.domain }
    private var plainAuth: String { options.plaintextLoginAllowed ? "PLAIN LOGIN" : "" }

    private func certificate(_ kind: ServiceKind) -> String {
        etc + "/" + (ConfigDefaults.certificateFile(kind) ?? "esmtpd.pem")
    }

    private func listen(_ file: inout VariableFileWriter, _ kind: ServiceKind, what: String) {
        let addressDoc = [
            "The address \(what) listens on: one numeric IPv4 or IPv6 address, or 0 for all.",
        ]
        let portDoc = [
            "The port(s) \(what) listens on: a comma-separated list; an item may carry its own",
            "address as ADDRESS.PORT (127.0.0.1.\(options.port(kind))).",
        ]
        file.setting(kind.addressVariable, address, doc: addressDoc)
        file.setting(kind.portVariable, String(options.port(kind)), doc: portDoc)
    }

    private func start(_ file: inout VariableFileWriter, _ kind: ServiceKind) {
        file.setting(kind.startVariable, "YES", doc: [
            "YES: courier start runs this service; NO: it does not.",
        ])
    }

    var esmtpd: String {
        var file = VariableFileWriter(title: "esmtpd: the SMTP server (mail from other servers and clients)", about: [
            "esmtpd-msa and esmtpd-ssl read this file first, then their own.",
        ])
        start(&file, .esmtpd)
        listen(&file, .esmtpd, what: "the SMTP server")
        file.setting("MAXDAEMONS", "40", doc: ["At most this many SMTP connections at once."])
        file.setting("MAXPERIP", "5", doc: ["At most this many connections from one IP address."])
        file.setting("BOFHCHECKDNS", options.demo ? "0" : "1", doc: [
            "1: refuse senders whose domain has no usable DNS record.",
            options.demo ? "The demo site's example.test is not in DNS, so it is off here." : "",
        ].filter { !$0.isEmpty })
        file.setting("BOFHNOEXPN", "1", doc: ["1: turn EXPN off."])
        file.setting("BOFHNOVRFY", "1", doc: ["1: turn VRFY off."])
        file.setting("TARPIT", options.demo ? "0" : "1", doc: ["1: slow down clients that get errors."])
        file.setting("NOADDMSGID", "1", doc: ["1: do not add a missing Message-ID: header."])
        file.setting("NOADDDATE", "1", doc: ["1: do not add a missing Date: header."])
        file.setting("AUTH_REQUIRED", "0", doc: [
            "1: every client must log in first. Keep 0 on a server that receives mail from",
            "other servers; relaying needs a login either way (see smtpaccess).",
        ])
        file.setting("ESMTPAUTH", plainAuth, doc: [
            "Login methods offered without TLS (PLAIN LOGIN CRAM-MD5 ...). Empty: none, so",
            "passwords never cross the network in the clear. Set only for loopback listeners.",
        ])
        file.setting("ESMTPAUTH_TLS", "PLAIN LOGIN", doc: ["Login methods offered once TLS is active."])
        file.setting("DEFDOMAIN", defaultDomain, doc: [
            "Appended to login names without @, so 'user' logs in as 'user\(defaultDomain)'.",
        ])
        file.setting("ACCESSFILE", etc + "/smtpaccess", doc: ["The access rules (file or directory)."])
        file.setting("TLS_CERTFILE", certificate(.esmtpd), doc: [
            "Certificate and private key (PEM) for STARTTLS and SMTPS.",
        ])
        file.setting("TLS_PROTOCOL", "TLSv1.2++", doc: ["The oldest TLS version accepted."])
        file.setting("ESMTP_LOG_DIALOG", "0", doc: ["1: log every SMTP command received."])
        return file.contents
    }

    var esmtpdMSA: String {
        var file = VariableFileWriter(title: "esmtpd-msa: the submission server (RFC 6409) for mail clients", about: [
            "Read after esmtpd; a setting here overrides esmtpd's for submission only.",
        ])
        start(&file, .esmtpdMSA)
        listen(&file, .esmtpdMSA, what: "the submission server")
        file.setting("AUTH_REQUIRED", "1", doc: ["1: clients must log in before they send mail."])
        file.setting("NOADDMSGID", "0", doc: ["0: add a missing Message-ID: header."])
        file.setting("NOADDDATE", "0", doc: ["0: add a missing Date: header."])
        file.setting("BOFHCHECKDNS", "0", doc: ["Logged-in users may use any sender domain."])
        return file.contents
    }

    var esmtpdSSL: String {
        var file = VariableFileWriter(title: "esmtpd-ssl: SMTP over TLS from the first byte (SMTPS)", about: [
            "Read after esmtpd; a setting here overrides esmtpd's for SMTPS only.",
        ])
        start(&file, .esmtpdSSL)
        listen(&file, .esmtpdSSL, what: "the SMTPS server")
        file.setting("TLS_CERTFILE", certificate(.esmtpdSSL), doc: ["Certificate and private key (PEM)."])
        return file.contents
    }

    var imapd: String {
        var file = VariableFileWriter(title: "imapd: the IMAP server", about: [
            "imapd-ssl reads this file first, then its own.",
        ])
        start(&file, .imapd)
        listen(&file, .imapd, what: "the IMAP server")
        file.setting("MAXDAEMONS", "40", doc: ["At most this many IMAP connections at once."])
        file.setting("MAXPERIP", "20", doc: ["At most this many connections from one IP address."])
        file.setting("IMAP_CAPABILITY", "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE", doc: [
            "Capabilities announced before login.",
        ])
        file.setting("IMAP_CAPABILITY_TLS", shellText: "\"$IMAP_CAPABILITY AUTH=PLAIN\"", doc: [
            "Capabilities announced once TLS is active.",
        ])
        file.setting("DEFDOMAIN", defaultDomain, doc: [
            "Appended to login names without @, so 'user' logs in as 'user\(defaultDomain)'.",
        ])
        file.setting("IMAP_TRASHFOLDERNAME", "Trash", doc: ["The trash folder."])
        file.setting("IMAP_EMPTYTRASH", "Trash:7", doc: ["folder:days: messages older than this are purged."])
        file.setting("MAILDIRPATH", "Maildir", doc: ["The mailbox, relative to the account's home."])
        file.setting("POP3_LOG_DELETIONS", "0", doc: ["1: log every message a POP3 client deletes."])
        file.setting("POP3_APOP", "0", doc: [
            "Ours (Courier has no APOP): 1 puts an RFC 1939 timestamp in the greeting and accepts",
            "APOP for accounts whose module keeps a clear password (PostgreSQL's clear column).",
        ])
        return file.contents
    }

    var imapdSSL: String {
        var file = VariableFileWriter(title: "imapd-ssl: IMAP over TLS (IMAPS) and STARTTLS", about: [
            "Read after imapd.",
        ])
        start(&file, .imapdSSL)
        listen(&file, .imapdSSL, what: "the IMAPS server")
        file.setting("IMAPDSTARTTLS", "YES", doc: ["YES: offer STARTTLS on the plain IMAP port."])
        file.setting("IMAP_TLS_REQUIRED", options.plaintextLoginAllowed ? "0" : "1", doc: [
            "1: no login before STARTTLS on the plain port. 0 only for loopback listeners.",
        ])
        file.setting("TLS_CERTFILE", certificate(.imapdSSL), doc: ["Certificate and private key (PEM)."])
        file.setting("TLS_PROTOCOL", "TLSv1.2++", doc: ["The oldest TLS version accepted."])
        return file.contents
    }

    var pop3d: String {
        var file = VariableFileWriter(title: "pop3d: the POP3 server", about: [
            "pop3d-ssl reads this file first, then its own.",
        ])
        start(&file, .pop3d)
        listen(&file, .pop3d, what: "the POP3 server")
        file.setting("MAXDAEMONS", "40", doc: ["At most this many POP3 connections at once."])
        file.setting("MAXPERIP", "4", doc: ["At most this many connections from one IP address."])
        file.setting("POP3AUTH", plainAuth, doc: ["SASL methods offered without TLS; empty: none."])
        file.setting("POP3AUTH_TLS", "PLAIN LOGIN", doc: ["SASL methods offered after STLS."])
        file.setting("DEFDOMAIN", defaultDomain, doc: [
            "Appended to login names without @, so 'user' logs in as 'user\(defaultDomain)'.",
        ])
        file.setting("MAILDIRPATH", "Maildir", doc: ["The mailbox, relative to the account's home."])
        file.setting("POP3_LOG_DELETIONS", "0", doc: ["1: log every message a POP3 client deletes."])
        file.setting("POP3_APOP", "0", doc: [
            "Ours (Courier has no APOP): 1 puts an RFC 1939 timestamp in the greeting and accepts",
            "APOP for accounts whose module keeps a clear password (PostgreSQL's clear column).",
        ])
        return file.contents
    }

    var pop3dSSL: String {
        var file = VariableFileWriter(title: "pop3d-ssl: POP3 over TLS (POP3S) and STLS", about: [
            "Read after pop3d.",
        ])
        start(&file, .pop3dSSL)
        listen(&file, .pop3dSSL, what: "the POP3S server")
        file.setting("POP3_STARTTLS", "YES", doc: ["YES: offer STLS on the plain POP3 port."])
        file.setting("POP3_TLS_REQUIRED", options.plaintextLoginAllowed ? "0" : "1", doc: [
            "1: no login before STLS on the plain port. 0 only for loopback listeners.",
        ])
        file.setting("TLS_CERTFILE", certificate(.pop3dSSL), doc: ["Certificate and private key (PEM)."])
        return file.contents
    }

    var webmail: String {
        var file = VariableFileWriter(title: "webmail: the webmail server (ours; Courier's sqwebmail is a CGI)", about: [])
        start(&file, .webmail)
        listen(&file, .webmail, what: "webmail")
        return file.contents
    }

    var webadmin: String {
        var file = VariableFileWriter(title: "webadmin: the web administration server (ours)", about: [])
        start(&file, .webadmin)
        listen(&file, .webadmin, what: "web admin")
        return file.contents
    }

    var metrics: String {
        var file = VariableFileWriter(title: "metrics: the Prometheus metrics endpoint (ours)", about: [
            "Serves http://ADDRESS:PORT/metrics.",
        ])
        start(&file, .metrics)
        listen(&file, .metrics, what: "the metrics endpoint")
        return file.contents
    }
}
