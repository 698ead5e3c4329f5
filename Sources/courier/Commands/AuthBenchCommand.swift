import ArgumentParser
import MailAuth

/// `courier bench-auth` (hidden): the issue #4 auth benchmark in this binary's build, so
/// Benchmarks/bench-auth.sh can measure a release build without a release build of the tests.
struct AuthBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-auth",
        abstract: "Measure userdb, hash, authdaemon-socket and PostgreSQL lookups and logins per second.",
        shouldDisplay: false)

    @Option(help: "Accounts in the userdb (and expected in PostgreSQL's passwd table).")
    var users = 100_000

    @Option(name: .customLong("pg-port"), help: "A PostgreSQL on 127.0.0.1 with database mail and Courier's passwd table.")
    var pgPort: Int?

    @Option(name: .customLong("pg-user"), help: "The PostgreSQL role.")
    var pgUser = "courier"

    func run() async throws {
        let postgres = pgPort.map { AuthBenchmarkRun.Postgres(port: $0, user: pgUser) }
        try await AuthBenchmarkRun.run(users: users, postgres: postgres) { label, count, seconds in
            let rate = seconds > 0 ? Double(count) / seconds : 0
            print("BENCH \(label): \(count) in \((seconds * 1000).rounded() / 1000) s = \(Int(rate)) per second")
        }
    }
}
