import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `lockmail` executable: a thin entry over MailTools.Lockmail.
@main
struct LockmailMain {
    static func main() {
        exit(Lockmail.run(CommandLine.arguments))
    }
}
