import MailTools
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// The multi-call entry: `courier TOOL args…` or a symlink named TOOL runs the tool with
/// Courier's own option syntax; anything else is an admin command (`init`, `start`, `demo`,
/// `install-links`, `check`) parsed by argument-parser. Tools are dispatched before any
/// admin-command machinery runs, so the per-message path stays as short as it can be.
@main
struct CourierEntry {
    static func main() async {
        var args = CommandLine.arguments
        let name = programBaseName(args.first ?? "courier")
        if let tool = ToolCatalog.named(name) {
            exit(tool.run(args))
        }
        if args.count > 1, let tool = ToolCatalog.named(args[1]) {
            args.removeFirst()
            exit(tool.run(args))
        }
        let commandArguments = Array(args.dropFirst())
        if commandArguments.isEmpty || commandArguments == ["--help"] || commandArguments == ["-h"] || commandArguments == ["help"] {
            // One line per command and tool, whatever the terminal width.
            print(CourierCommand.helpMessage(columns: 240))
            exit(commandArguments.isEmpty ? 64 : 0)
        }
        await CourierCommand.main(commandArguments)
    }
}
