import MailCore
import ToolSupport

/// `makemime`: Courier's makemime(1), byte-compatible (spec/tools.md).
public enum Makemime {
    /// Runs makemime with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        printError("makemime: not implemented yet\n")
        return 1
    }
}
