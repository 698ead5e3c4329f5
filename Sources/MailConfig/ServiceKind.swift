/// The network services of a Courier site, named as Courier names their config files and
/// start scripts (DESIGN.md, demo-site contract). Each knows which files it reads, in order,
/// and which variables give its listen ports (spec/mta.md §2.1, spec/access.md §2.8, §3.5).
public enum ServiceKind: String, CaseIterable, Sendable, Hashable, Comparable {
    case esmtpd
    case esmtpdMSA = "esmtpd-msa"
    case esmtpdSSL = "esmtpd-ssl"
    case imapd
    case imapdSSL = "imapd-ssl"
    case pop3d
    case pop3dSSL = "pop3d-ssl"
    case webmail
    case webadmin
    case metrics

    /// Config files read in order; later ones override earlier ones.
    public var configFiles: [String] {
        switch self {
        case .esmtpd: ["esmtpd"]
        case .esmtpdMSA: ["esmtpd", "esmtpd-msa"]
        case .esmtpdSSL: ["esmtpd", "esmtpd-ssl"]
        case .imapd: ["imapd"]
        case .imapdSSL: ["imapd", "imapd-ssl"]
        case .pop3d: ["pop3d"]
        case .pop3dSSL: ["pop3d", "pop3d-ssl"]
        case .webmail: ["webmail"]
        case .webadmin: ["webadmin"]
        case .metrics: ["metrics"]
        }
    }

    /// True for the implicit-TLS services, which listen on `SSLPORT`/`SSLADDRESS`.
    public var isImplicitTLS: Bool {
        self == .esmtpdSSL || self == .imapdSSL || self == .pop3dSSL
    }

    /// The variable holding the port list.
    public var portVariable: String { isImplicitTLS ? "SSLPORT" : "PORT" }

    /// The variable holding the listen address.
    public var addressVariable: String { isImplicitTLS ? "SSLADDRESS" : "ADDRESS" }

    /// The variable that turns the service on (Courier's boot-script flags; ours for the
    /// web services and metrics).
    public var startVariable: String {
        switch self {
        case .esmtpd, .esmtpdMSA: "ESMTPDSTART"
        case .esmtpdSSL: "ESMTPDSSLSTART"
        case .imapd: "IMAPDSTART"
        case .imapdSSL: "IMAPDSSLSTART"
        case .pop3d: "POP3DSTART"
        case .pop3dSSL: "POP3DSSLSTART"
        case .webmail: "WEBMAILSTART"
        case .webadmin: "WEBADMINSTART"
        case .metrics: "METRICSSTART"
        }
    }

    /// The file whose `*START` flag and ports belong to this service (the last one read).
    public var ownFile: String { configFiles[configFiles.count - 1] }

    public static func < (lhs: ServiceKind, rhs: ServiceKind) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
