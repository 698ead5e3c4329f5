import MailTools
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// The lean `mailbot` executable: a thin entry over MailTools.Mailbot, passing argv as raw bytes.
@main
struct MailbotMain {
    static func main() {
        exit(Mailbot.run(rawArguments: ProcessArguments.raw()))
    }
}
