import MailQueue
import ArgumentParser
import CourierDaemon
import MailConfig
import SiteSetup

/// `courier demo`: makes the demo site if needed, then runs it (DESIGN.md "The demo site").
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Make the demo site if DIR holds none (init --demo), then start it in the foreground.",
        discussion: """
            Default DIR: \(ConfigDefaults.demoRoot). The demo site listens on 127.0.0.1 only; \
            log in as demo@example.test (or demo) with password demo.
            """)

    @Option(help: ArgumentHelp("The demo site's root.", valueName: "DIR"))
    var root: String = ConfigDefaults.demoRoot

    @Option(help: "Add K to every port (only when the site is made).")
    var portOffset = 0

    func run() async throws {
        let configRoot = ConfigRoot(path: root)
        if SiteInitializer.siteExists(at: configRoot) {
            if portOffset != 0 {
                printToStandardError("courier demo: \(configRoot) already exists; --port-offset applies only when the site is made (edit PORT= in its files or remove it)")
            }
        } else {
            let options = SiteOptions(domain: ConfigDefaults.demoDomain, demo: true, portOffset: portOffset,
                                      address: ConfigDefaults.demoAddress)
            do {
                print(try SiteSetupRunner.make(root: configRoot, options: options))
            } catch {
                printToStandardError("courier demo: \(error)")
                throw ExitCode(Daemon.exitConfigError)
            }
        }
        let shared = SharedQueue()
        let status = await Daemon(root: configRoot, registry: .courier(queue: shared), backgroundTasks: [QueueRunnerTask(shared: shared), AuthDaemonTask()]).run()
        if status != 0 { throw ExitCode(status) }
    }
}
