import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `maildirmake` executable: a thin entry over MailTools.Maildirmake.
@main
struct MaildirmakeMain {
    static func main() {
        exit(Maildirmake.run(CommandLine.arguments))
    }
}
