/// Every default value in one place: Courier's documented defaults (used when a file or a
/// variable is missing; spec/mta.md §2.2, §3.1, spec/access.md §2.7–§3.5) and the demo-site
/// contract (DESIGN.md), which `courier init` writes.
public enum ConfigDefaults {
    /// The config root when neither `--root` nor `COURIER_ROOT` names one: Courier's own prefix.
    public static let root = "/usr/lib/courier"
    /// The environment variable naming the config root.
    public static let rootEnvironmentVariable = "COURIER_ROOT"

    // MARK: Courier's defaults when a value is missing

    /// Courier's standard port of each service when its `PORT`/`SSLPORT` is unset.
    public static func courierPort(_ kind: ServiceKind) -> Int {
        switch kind {
        case .esmtpd: 25
        case .esmtpdMSA: 587
        case .esmtpdSSL: 465
        case .imapd: 143
        case .imapdSSL: 993
        case .pop3d: 110
        case .pop3dSSL: 995
        case .webmail: 8080
        case .webadmin: 8081
        case .metrics: 9187
        }
    }

    /// Whether a service runs when its `*START` flag is unset. Courier's esmtpd files default
    /// to `NO`, Debian's imapd/pop3d to `YES`; our own services default to on.
    public static func startsByDefault(_ kind: ServiceKind) -> Bool {
        switch kind {
        case .esmtpd, .esmtpdMSA, .esmtpdSSL: false
        case .imapd, .imapdSSL, .pop3d, .pop3dSSL: true
        case .webmail, .webadmin, .metrics: true
        }
    }

    /// `sizelimit`: 10 MiB; `0` means unlimited.
    public static let sizeLimit = 10_485_760
    /// `queuetime`: one week.
    public static let queueTime = 7 * 86_400
    /// `warntime`: four hours.
    public static let warnTime = 4 * 3_600
    /// `dsnlimit`: 32 KiB.
    public static let dsnLimit = 32_768
    /// `batchsize`: recipients per queue entry.
    public static let batchSize = 100
    /// `retryalpha`, `retrybeta`, `retrygamma`, `retrymaxdelta` (§3.13).
    public static let retryAlpha = 5 * 60
    public static let retryBeta = 3
    public static let retryGamma = 15 * 60
    public static let retryMaxDelta = 3

    /// `dsnfrom` when the file is missing.
    public static func dsnFrom(me: String) -> String {
        "\"Courier mail server at \(me)\" <@>"
    }

    /// `MAILUSER`/`MAILGROUP` when `courierd` sets none (Debian's mail owner).
    public static let mailUser = "mail"
    public static let mailGroup = "mail"

    /// `TLS_CERTFILE` file name (under `etc/`) of each TLS service, as Courier names them.
    public static func certificateFile(_ kind: ServiceKind) -> String? {
        switch kind {
        case .esmtpd, .esmtpdMSA, .esmtpdSSL: "esmtpd.pem"
        case .imapd, .imapdSSL: "imapd.pem"
        case .pop3d, .pop3dSSL: "pop3d.pem"
        case .webmail, .webadmin, .metrics: nil
        }
    }

    // MARK: The demo-site contract (DESIGN.md)

    /// The demo site's mail domain.
    public static let demoDomain = "example.test"
    /// The demo user's login name (also accepted as plain `demo`) and password.
    public static let demoUser = "demo"
    public static let demoPassword = "demo"
    /// Where the demo site listens.
    public static let demoAddress = "127.0.0.1"
    /// `courier demo`'s root when `--root` is not given.
    public static let demoRoot = "./demo-site"

    /// The demo-site port of each service, before `--port-offset`.
    public static func demoPort(_ kind: ServiceKind) -> Int {
        switch kind {
        case .esmtpd: 2525
        case .esmtpdMSA: 2587
        case .esmtpdSSL: 2465
        case .imapd: 2143
        case .imapdSSL: 2993
        case .pop3d: 2110
        case .pop3dSSL: 2995
        case .webmail: 8080
        case .webadmin: 8081
        case .metrics: 9187
        }
    }
}
