import ArgumentParser
import CourierDaemon
import MailConfig

/// `courier check`: reads and validates a config root without starting anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a site's configuration: prints FILE:LINE: reason for each problem.")

    @OptionGroup var root: RootOptions

    func run() throws {
        let configRoot = root.resolved
        do {
            let config = try ConfigLoader.load(configRoot)
            let services = config.enabledListeners.map { listener in
                listener.kind.rawValue + " " + listener.endpoints.map(\.description).joined(separator: ",")
            }
            print("courier: \(configRoot): configuration OK")
            print("services: " + (services.isEmpty ? "none" : services.joined(separator: ", ")))
        } catch {
            for problem in error.errors { printToStandardError("courier: \(problem)") }
            throw ExitCode(Daemon.exitConfigError)
        }
    }
}
