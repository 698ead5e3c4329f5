import MailCore
import ToolSupport

/// `reformail`: Courier's reformail(1), byte-compatible (spec/tools.md).
public enum Reformail {
    /// Runs reformail with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        printError("reformail: not implemented yet\n")
        return 1
    }
}
