#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CourierDaemon
import MailAuthCore
import MailConfig
import SiteSetup

/// `courier init`: makes a ready config root (DESIGN.md "The config root").
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a new site: Courier's config files, queue, log and mail directories.",
        discussion: """
            Writes DIR/etc (me, locals, hosteddomains, esmtpd, imapd, pop3d, courierd, userdb, \
            TLS certificate, ...), DIR/var/queue, DIR/var/log and DIR/mail. Services listen on \
            the demo ports (SMTP 2525, submission 2587, SMTPS 2465, IMAP 2143, IMAPS 2993, \
            POP3 2110, POP3S 2995, webmail 8080, webadmin 8081, metrics 9187) plus --port-offset.
            With --demo: domain example.test, user demo@example.test (also "demo") with password \
            "demo", everything on 127.0.0.1.
            """)

    @OptionGroup var root: RootOptions

    @Option(help: "The mail domain (default with --demo: example.test).")
    var domain: String?

    @Flag(help: "Make the demo site: demo user, loopback only.")
    var demo = false

    @Option(help: "Add K to every port.")
    var portOffset = 0

    @Option(help: "This server's host name for `me` (default: mail.DOMAIN).")
    var hostname: String?

    @Option(help: "Listen address for every service (default: 127.0.0.1 with --demo, else 0 = all).")
    var address: String?

    @Flag(help: "Use Courier's standard ports (25, 587, 465, 143, 993, 110, 995) instead of the demo ports.")
    var standardPorts = false

    @Flag(help: "Write the files even if DIR already holds a site.")
    var force = false

    func validate() throws {
        if domain == nil, !demo {
            throw ValidationError("--domain is required (or --demo for the demo site)")
        }
    }

    func run() throws {
        let options = SiteOptions(
            domain: domain ?? ConfigDefaults.demoDomain, hostName: hostname, demo: demo, portOffset: portOffset,
            address: address.flatMap { $0 == "0" ? nil : $0 } ?? (demo ? ConfigDefaults.demoAddress : nil),
            standardPorts: standardPorts, force: force)
        do {
            let report = try SiteSetupRunner.make(root: root.resolved, options: options)
            print(report)
        } catch {
            printToStandardError("courier init: \(error)")
            throw ExitCode(Daemon.exitConfigError)
        }
    }
}

/// Makes a site and describes it (shared by `init` and `demo`).
enum SiteSetupRunner {
    static func make(root: ConfigRoot, options: SiteOptions) throws -> String {
        var initializer = try SiteInitializer(root: root, options: options)
        let report = try initializer.make()
        let compiled = try compileUserdb(root: root, owner: report.owner)
        var lines = ["courier: made a site in \(root) (mail owner \(report.owner.user):\(report.owner.group))"]
        lines += (report.created + compiled).map { "  " + $0 }
        let ports = ServiceKind.allCases.map { kind in
            "\(kind.rawValue) \(options.address.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "*"):\(options.port(kind))"
        }
        lines.append("services: " + ports.joined(separator: ", "))
        if !report.demoLogins.isEmpty {
            lines.append("demo user: \(report.demoLogins.joined(separator: " or ")), password \(ConfigDefaults.demoPassword)")
        }
        lines.append("start it with: courier start --root \(root)")
        return lines.joined(separator: "\n")
    }

    /// makeuserdb on the new site, so the compiled userdb exists from the start (as
    /// Courier's install does); the files belong to the mail owner like the rest.
    static func compileUserdb(root: ConfigRoot, owner: MailOwner) throws -> [String] {
        let paths = UserdbPaths(source: root.etc("userdb"))
        do {
            _ = try UserdbCompiler.make(paths)
        } catch {
            throw SiteSetupError("makeuserdb: \(error)")
        }
        let made = [paths.database, paths.shadow, paths.lock]
        if owner.needsChown {
            for path in made where lchown(path, owner.uid, owner.gid) != 0 {
                throw SiteSetupError("cannot give \(path) to \(owner.user): \(String(cString: strerror(errno)))")
            }
        }
        return made
    }
}
