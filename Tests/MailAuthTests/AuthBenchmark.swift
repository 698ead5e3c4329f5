import Glibc
import Testing
import MailAuth

/// Lookups and verifications per second with many users (issue #4), in a test build. Runs only
/// when AUTH_BENCH_USERS is set (and AUTH_BENCH_PG_PORT for PostgreSQL); it measures, it does
/// not judge. Benchmarks/bench-auth.sh runs the same measurements through `courier bench-auth`.
private let benchUsers = getenv("AUTH_BENCH_USERS").flatMap { Int(String(cString: $0)) } ?? 0

@Test(.enabled(if: benchUsers > 0))
func authBenchmark() async throws {
    let postgres = getenv("AUTH_BENCH_PG_PORT").flatMap { Int(String(cString: $0)) }.map { port in
        AuthBenchmarkRun.Postgres(port: port, user: getenv("AUTH_BENCH_PG_USER").map { String(cString: $0) } ?? "courier",
                                  password: getenv("AUTH_BENCH_PG_PASSWORD").map { String(cString: $0) })
    }
    try await AuthBenchmarkRun.run(users: benchUsers, postgres: postgres) { label, count, seconds in
        let rate = seconds > 0 ? Double(count) / seconds : 0
        print("BENCH \(label): \(count) in \(seconds) s = \(Int(rate)) per second")
    }
}
