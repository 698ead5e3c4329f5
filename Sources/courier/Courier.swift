import MailTools
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// The multi-call entry: `courier TOOL args…` or a symlink named TOOL.
@main
struct CourierEntry {
    static func main() async {
        var args = CommandLine.arguments
        let name = programBaseName(args.first ?? "courier")
        if let tool = LeanTools.named(name) {
            exit(tool.run(args))
        }
        if args.count > 1, let tool = LeanTools.named(args[1]) {
            args.removeFirst()
            exit(tool.run(args))
        }
        printError("usage: courier TOOL [args...]\n")
        exit(64)
    }
}
