import MaildirCore
import ToolSupport

/// `maildirmake`: Courier's maildirmake, compatible with the maildrop package's (spec/tools.md §6).
public enum Maildirmake {
    /// Runs maildirmake with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        printError("maildirmake: not implemented yet\n")
        return ExitStatus.tempFail
    }
}
