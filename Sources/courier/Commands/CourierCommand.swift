import ArgumentParser
import MailConfig

/// `courier`: the root of the admin commands; `--help` also lists the tools.
struct CourierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "courier",
        abstract: "Courier for Swift: mail server (SMTP, IMAP, POP3, webmail) and Courier's mail tools.",
        usage: """
            courier COMMAND [options]
              courier TOOL [Courier options]   (or a link named TOOL)
            """,
        discussion: toolList,
        version: CourierVersion.banner,
        subcommands: [InitCommand.self, StartCommand.self, DemoCommand.self, InstallLinksCommand.self, CheckCommand.self,
                      FlushCommand.self, DNSQueryCommand.self, ShowCommand.self, ClearCommand.self, AuthBenchCommand.self])

    /// One line per tool, for `--help`.
    static var toolList: String {
        let width = (ToolCatalog.all.map(\.name.count).max() ?? 0) + 2
        let lines = ToolCatalog.all.map { tool in
            "  " + tool.name + String(repeating: " ", count: max(1, width - tool.name.count)) + tool.summary
        }
        return """
            The config root is --root DIR, else $COURIER_ROOT, else \(ConfigDefaults.root).
            Quick start: courier demo   (a working site in ./demo-site on 127.0.0.1)

            TOOLS (run as `courier TOOL args...` or through a link named TOOL; see install-links):
            \(lines.joined(separator: "\n"))
            """
    }
}

/// `--root DIR`, shared by the commands that work on a site.
struct RootOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config root (default: $COURIER_ROOT, else \(ConfigDefaults.root)).", valueName: "DIR"))
    var root: String?

    var resolved: ConfigRoot {
        ConfigRoot.resolve(explicit: root, environment: ConfigRoot.processEnvironment())
    }
}
