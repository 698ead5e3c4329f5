import MailConfig
import ToolSupport

/// `makehosteddomains`, `makeacceptmailfor` and `makepercentrelay` (spec/mta.md §3.5, §3.6,
/// §3.22): Courier compiles these domain lists into `.dat` files. Our server reads the source
/// text itself (at start and on SIGHUP), so each command checks its source the way the server
/// will read it (`FILE:LINE: reason`, exit 1, nothing written), writes the `.dat` (ours: the
/// domains, one per line, `domain<TAB>target` for hosted aliases) and tells a running daemon
/// to reload.
enum MakeDomainListTool {
    struct List {
        var command: String
        var summary: String
        /// The source under etc/, and its compiled name.
        var source: String
        var compiled: String
        var hosted: Bool
    }

    static let lists = [
        List(command: "makehosteddomains", summary: "check etc/hosteddomains and compile it into hosteddomains.dat",
             source: "hosteddomains", compiled: "hosteddomains.dat", hosted: true),
        List(command: "makeacceptmailfor", summary: "check etc/esmtpacceptmailfor.dir and compile it into esmtpacceptmailfor.dat",
             source: "esmtpacceptmailfor.dir", compiled: "esmtpacceptmailfor.dat", hosted: false),
        List(command: "makepercentrelay", summary: "check etc/esmtppercentrelay.dir and compile it into esmtppercentrelay.dat",
             source: "esmtppercentrelay.dir", compiled: "esmtppercentrelay.dat", hosted: false),
    ]

    static let entries = lists.map { list in
        ToolEntry(name: list.command, summary: list.summary) { run($0, list) }
    }

    static func run(_ arguments: [String], _ list: List) -> Int32 {
        if let option = arguments.dropFirst().first {
            printToStandardError("\(list.command): unknown option \(option) (it takes none; COURIER_ROOT names the site)")
            return 1
        }
        let root = ConfigRoot.resolve(explicit: nil, environment: ConfigRoot.processEnvironment())
        let source = root.etc(list.source)
        var patterns: [DomainPattern] = []
        do {
            // Courier: a missing source makes an empty database.
            for (file, bytes) in try ConfigSources.read(source) ?? [] {
                patterns += try DomainListParser.parse(bytes, file: file, hosted: list.hosted)
            }
        } catch {
            printToStandardError("\(list.command): \(error)")
            return 1
        }
        var text = ""
        for pattern in patterns { text += line(pattern) + "\n" }
        do {
            try MakeDatabase.write(Array(text.utf8), to: root.etc(list.compiled), temporary: root.etc(list.compiled + ".tmp"))
        } catch {
            printToStandardError("\(list.command): \(error)")
            return 1
        }
        DaemonPidFile.signalReload(root, tool: list.command)
        return 0
    }

    static func line(_ pattern: DomainPattern) -> String {
        var text: String
        switch pattern.kind {
        case .exact: text = pattern.domain
        case .subdomains: text = "." + pattern.domain
        case .excluded: text = "!" + pattern.domain
        case .hostname: text = "*"
        }
        if let target = pattern.target { text += "\t" + target }
        return text
    }
}
