import MailConfig
import ToolSupport

/// `makesmtpaccess` / `makesmtpaccess-msa` (spec/mta.md §2.16): reads `ACCESSFILE` from
/// `etc/esmtpd` (and `etc/esmtpd-msa` for the -msa form; default `etc/smtpaccess`), checks every
/// rule, and writes `ACCESSFILE.dat` (ours: the rules one per line, `netblock<TAB>allow,VAR=value`
/// or `deny`, in source order). Errors are `FILE:LINE: reason`, nothing is written, exit 1.
/// The server reads the source text itself at start and on SIGHUP (`kill -HUP` the daemon).
enum MakesmtpaccessTool {
    static let entries = [
        ToolEntry(name: "makesmtpaccess", summary: "check etc/smtpaccess and compile it into smtpaccess.dat") { run($0, msa: false) },
        ToolEntry(name: "makesmtpaccess-msa", summary: "the same for esmtpd-msa's ACCESSFILE") { run($0, msa: true) },
    ]

    static func run(_ arguments: [String], msa: Bool) -> Int32 {
        let name = msa ? "makesmtpaccess-msa" : "makesmtpaccess"
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        let source: String
        do {
            let files = msa ? [root.etc("esmtpd"), root.etc("esmtpd-msa")] : [root.etc("esmtpd")]
            let variables = try ConfigSources.variables(files)
            source = variables["ACCESSFILE"] ?? root.etc("smtpaccess")
        } catch {
            printToStandardError("\(name): \(error)")
            return 1
        }
        var rules: [AccessRule] = []
        var errors: [ConfigError] = []
        do {
            guard let parts = try ConfigSources.read(source) else {
                printToStandardError("\(name): \(source): no such file or directory")
                return 1
            }
            for (file, bytes) in parts {
                do {
                    rules += try AccessFileParser.parse(bytes, file: file)
                } catch {
                    errors.append(error)
                }
            }
        } catch {
            errors.append(error)
        }
        guard errors.isEmpty else {
            for error in errors { printToStandardError("\(name): \(error)") }
            return 1
        }
        var text = ""
        for rule in rules {
            switch rule.action {
            case .deny:
                text += "\(rule.netblock)\tdeny\n"
            case .allow(let variables):
                let settings = variables.map { ",\($0.name)=\($0.value)" }.joined()
                text += "\(rule.netblock)\tallow\(settings)\n"
            }
        }
        do {
            try MakeDatabase.write(Array(text.utf8), to: source + ".dat", temporary: source + ".tmp")
        } catch {
            printToStandardError("\(name): \(error)")
            return 1
        }
        DaemonPidFile.signalReload(root, tool: name)
        return 0
    }
}
