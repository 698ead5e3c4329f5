import ArgumentParser
import CourierDaemon
import MailAuth
import MailConfig

/// `courier check`: reads and validates a config root without starting anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a site's configuration: prints FILE:LINE: reason for each problem.")

    @OptionGroup var root: RootOptions

    func run() throws {
        let configRoot = root.resolved
        if let problem = AuthConfigurationCheck.problem(root: configRoot) {
            printToStandardError("courier: \(problem)")
            throw ExitCode(Daemon.exitConfigError)
        }
        do {
            let config = try ConfigLoader.load(configRoot)
            for warning in config.warnings {
                printToStandardError("courier: \(warning); line skipped")
            }
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

/// The account sources (`authdaemonrc`, `authpgsqlrc`) checked before anything starts, so a
/// bad file stops `check` and `start` with FILE:LINE and status 78 like the other files.
enum AuthConfigurationCheck {
    static func problem(root: ConfigRoot) -> ConfigError? {
        do {
            _ = try AuthConfiguration.load(root: root)
            return nil
        } catch {
            return error
        }
    }
}
