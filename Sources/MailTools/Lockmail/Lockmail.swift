import MaildirCore
import ToolSupport

/// `lockmail`: Courier's lockmail, compatible with the maildrop package's (spec/tools.md §6).
public enum Lockmail {
    /// Runs lockmail with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        printError("lockmail: not implemented yet\n")
        return ExitStatus.tempFail
    }
}
