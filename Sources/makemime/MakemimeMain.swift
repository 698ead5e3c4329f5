import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `makemime` executable: a thin entry over MailTools.Makemime.
@main
struct MakemimeMain {
    static func main() {
        exit(Makemime.run(CommandLine.arguments))
    }
}
