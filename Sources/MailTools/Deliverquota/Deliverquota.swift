import MaildirCore
import ToolSupport

/// `deliverquota`: Courier's deliverquota, compatible with the maildrop package's (spec/tools.md §6).
public enum Deliverquota {
    /// Runs deliverquota with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        printError("deliverquota: not implemented yet\n")
        return ExitStatus.tempFail
    }
}
