#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import MailConfig
import MailQueue

/// `courier show all` (spec/mta.md §4.10, §6): the addresses on the backscatter suppression
/// list, sorted, one a line.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "courier show all: list the addresses on the backscatter suppression list.")

    @OptionGroup var root: RootOptions

    @Argument(help: "all")
    var what: String

    func run() throws {
        guard what == "all" else {
            printToStandardError("Usage: courier show all")
            throw ExitCode(1)
        }
        let site = root.resolved
        try BackscatterAdmin.checkPermission(site, command: "show")
        let list = SuppressionStore.shared(for: site).current()
        for address in list.addresses(now: Int64(time(nil))) { print(address) }
    }
}

/// `courier clear <address>` / `courier clear all` (spec/mta.md §4.10, §6): takes one address,
/// or every address, off the backscatter suppression list; the running daemon is told to
/// read it again (SIGHUP).
struct ClearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "courier clear ADDRESS|all: take addresses off the backscatter suppression list.")

    @OptionGroup var root: RootOptions

    @Argument(help: "An address, or all.")
    var address: String

    func run() throws {
        let site = root.resolved
        try BackscatterAdmin.checkPermission(site, command: "clear")
        let store = SuppressionStore.shared(for: site)
        do {
            if address == "all" {
                try store.update { $0.clearAll() }
            } else {
                try store.update { $0.clear(address) }
                print("\(address) cleared.")
            }
        } catch {
            printToStandardError("courier clear: \(error)")
            throw ExitCode(75)
        }
        DaemonPidFile.signalReload(site, tool: "courier clear", quiet: true)
    }
}

/// What `show` and `clear` share.
enum BackscatterAdmin {
    /// Only the superuser or the owner of `var/queue` may (Courier runs these as the mail user).
    static func checkPermission(_ site: ConfigRoot, command: String) throws {
        var info = stat()
        guard stat(site.queue, &info) == 0, getuid() != 0, getuid() != info.st_uid else { return }
        printToStandardError("courier \(command) can be executed only by the superuser or the queue's owner.")
        throw ExitCode(1)
    }
}
