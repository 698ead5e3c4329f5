import MailTools
#if canImport(Glibc)
import Glibc
#endif

/// The lean `deliverquota` executable: a thin entry over MailTools.Deliverquota.
@main
struct DeliverquotaMain {
    static func main() {
        exit(Deliverquota.run(CommandLine.arguments))
    }
}
