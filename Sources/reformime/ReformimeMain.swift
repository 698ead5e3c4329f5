import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `reformime` executable: a thin entry over MailTools.Reformime.
@main
struct ReformimeMain {
    static func main() {
        exit(Reformime.run(CommandLine.arguments))
    }
}
