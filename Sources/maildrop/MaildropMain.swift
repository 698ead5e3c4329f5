import Maildrop
#if canImport(Glibc)
import Glibc
#endif

/// The lean `maildrop` executable: a thin entry over Maildrop.MaildropTool.
@main
struct MaildropMain {
    static func main() {
        exit(MaildropTool.run(CommandLine.arguments))
    }
}
