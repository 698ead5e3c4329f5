import MailTools
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// The lean `reformime` executable: a thin entry over MailTools.Reformime. It passes the
/// raw argv bytes, so that header text and file names that are not UTF-8 stay unchanged.
@main
struct ReformimeMain {
    static func main() {
        exit(Reformime.run(rawArguments: ProcessArguments.raw()))
    }
}
