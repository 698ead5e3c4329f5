import MailTools
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// The lean `makemime` executable: a thin entry over MailTools.Makemime. It passes the
/// raw argv bytes, so that arguments that are not UTF-8 reach the output unchanged.
@main
struct MakemimeMain {
    static func main() {
        exit(Makemime.run(rawArguments: ProcessArguments.raw()))
    }
}
