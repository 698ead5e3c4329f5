#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import MailConfig
import MailQueue

/// `courier flush [ID]` (spec/mta.md §6.3): every queued message, or one, is due now.
/// Only the superuser or the queue's owner may; an unknown id is "No such message." (exit 1),
/// as Courier says. The command is left for the queue's owner, daemon running or not.
struct FlushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Retry every queued message now, or only message ID.")

    @OptionGroup var root: RootOptions

    @Argument(help: "A queue id, as mailq shows it.")
    var id: String?

    func run() throws {
        let site = root.resolved
        var info = stat()
        let owner = stat(site.queue, &info) == 0 ? info.st_uid : 0
        guard getuid() == 0 || getuid() == owner else {
            printToStandardError("courier flush can be executed only by the superuser.")
            throw ExitCode(1)
        }
        let command: QueueControlCommand
        if let id {
            let queueID = QueueID(id)
            guard QueueRecovery.scan(site.queue).messages.contains(where: { $0.header.id == queueID }) else {
                printToStandardError("No such message.")
                throw ExitCode(1)
            }
            command = .flush(queueID)
        } else {
            command = .flushAll
        }
        do {
            try command.write(queueDirectory: site.queue)
        } catch {
            printToStandardError("courier flush: \(error)")
            throw ExitCode(75)
        }
    }
}
