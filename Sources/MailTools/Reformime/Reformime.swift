import MailCore
import ToolSupport

/// `reformime`: Courier's reformime(1), byte-compatible (spec/tools.md).
public enum Reformime {
    /// Runs reformime with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        printError("reformime: not implemented yet\n")
        return 1
    }
}
