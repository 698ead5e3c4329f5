import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `reformail` executable: a thin entry over MailTools.Reformail.
@main
struct ReformailMain {
    static func main() {
        exit(Reformail.run(CommandLine.arguments))
    }
}
