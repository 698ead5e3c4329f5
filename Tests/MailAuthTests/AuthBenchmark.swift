import Dispatch
import Glibc
import MailConfig
import Testing
@testable import MailAuth
@testable import MailAuthCore

/// Lookups and verifications per second with many users (issue #4). Runs only when
/// Benchmarks/bench-auth.sh sets AUTH_BENCH_USERS (and AUTH_BENCH_PG_PORT for PostgreSQL);
/// it measures, it does not judge.
private let benchUsers = Int(String(cString: getenv("AUTH_BENCH_USERS") ?? strdup("0"))) ?? 0

private func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let elapsed = try await clock.measure { try await body() }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

private func report(_ label: String, count: Int, time: Double) {
    let rate = time > 0 ? Double(count) / time : 0
    print("BENCH \(label): \(count) in \(String(format: "%.3f", time)) s = \(Int(rate)) per second")
}

@Test(.enabled(if: benchUsers > 0))
func authBenchmark() async throws {
    let directory = temporaryDirectory()
    let source = directory + "/userdb"
    let stored = try PasswordMaker.make("benchpw", method: .ldapSSHA1)
    var text = ""
    text.reserveCapacity(benchUsers * 120)
    for index in 0..<benchUsers {
        text += "user\(index)@bench.test\tuid=1000|gid=1000|home=/srv/mail/user\(index)|mail=/srv/mail/user\(index)/Maildir|systempw=\(stored)\n"
    }
    writeFile(source, text)
    let compile = try await seconds { _ = try UserdbCompiler.make(UserdbPaths(source: source)) }
    report("makeuserdb (\(benchUsers) users)", count: benchUsers, time: compile)

    let store = UserdbStore(source: source)
    let names = (0..<100_000).map { "user\(($0 &* 7919) % benchUsers)@bench.test" }
    var found = 0
    let lookups = try await seconds { for name in names where try store.lookup(name) != nil { found += 1 } }
    #expect(found == names.count)
    report("userdb lookups", count: names.count, time: lookups)

    for method in [PasswordMaker.Method.ldapSSHA1, .ldapSHA256, .md5crypt, .sha512crypt, .yescrypt] {
        let hash = try PasswordMaker.make("benchpw", method: method)
        let rounds = method.rawValue.hasPrefix("$") ? 200 : 20_000
        let time = await seconds { for _ in 0..<rounds { _ = PasswordVerifier.verify("benchpw", against: hash) } }
        report("verify \(method.rawValue)", count: rounds, time: time)
    }

    let chain = AuthChain(modules: [UserdbModule(store: store)])
    let logins = 20_000
    let loginTime = await seconds {
        for index in 0..<logins {
            _ = await chain.authenticate(.password(user: names[index], password: Array("benchpw".utf8)), service: "imap")
        }
    }
    report("userdb logins ({SSHA}, through the chain)", count: logins, time: loginTime)

    // The authdaemon socket: what per-message tools (and Courier's clients) pay per lookup,
    // one connection per request, from 4 client threads.
    let socketPath = directory + "/authdaemon/socket"
    let server = AuthDaemonServer(socketPath: socketPath, responder: AuthDaemonResponder(chain: chain))
    let channel = try await server.bind()
    let socketLookups = 20_000
    let clients = 4
    let client = AuthDaemonClient(socketPath: socketPath)
    let socketNames = names
    let socketTime = await seconds {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                DispatchQueue.concurrentPerform(iterations: clients) { worker in
                    for index in stride(from: worker, to: socketLookups, by: clients) {
                        _ = try? client.lookup(user: socketNames[index], service: "courier")
                    }
                }
                done.resume()
            }
        }
    }
    report("authdaemon socket PRE lookups (\(clients) client threads)", count: socketLookups, time: socketTime)
    let socketLogins = 5_000
    let socketLoginTime = await seconds {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                DispatchQueue.concurrentPerform(iterations: clients) { worker in
                    for index in stride(from: worker, to: socketLogins, by: clients) {
                        _ = try? client.authenticate(service: "imap", .login(user: socketNames[index], password: Array("benchpw".utf8)))
                    }
                }
                done.resume()
            }
        }
    }
    report("authdaemon socket AUTH logins ({SSHA}, \(clients) client threads)", count: socketLogins, time: socketLoginTime)
    try await channel.close()

    guard let portText = getenv("AUTH_BENCH_PG_PORT"), let port = Int(String(cString: portText)) else { return }
    var settings = PgsqlSettings()
    settings.host = "127.0.0.1"
    settings.port = port
    settings.user = String(cString: getenv("AUTH_BENCH_PG_USER") ?? strdup("courier"))
    settings.password = getenv("AUTH_BENCH_PG_PASSWORD").map { String(cString: $0) }
    settings.database = "mail"
    settings.maxConnections = 16
    let module = PgsqlModule(settings: settings)
    defer { module.shutdown() }
    let pgChain = AuthChain(modules: [module])
    let queries = 20_000
    let concurrency = 16
    var pgFound = 0
    let pgTime = await seconds {
        pgFound = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var hits = 0
                    for index in stride(from: worker, to: queries, by: concurrency) {
                        if case .success = await pgChain.lookup(user: names[index], service: "imap") { hits += 1 }
                    }
                    return hits
                }
            }
            return await group.reduce(0, +)
        }
    }
    #expect(pgFound == queries)
    report("PostgreSQL lookups (\(concurrency) concurrent)", count: queries, time: pgTime)
    let pgLogins = 5_000
    let pgLoginTime = await seconds {
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: pgLogins, by: concurrency) {
                        _ = await pgChain.authenticate(.password(user: names[index], password: Array("benchpw".utf8)), service: "imap")
                    }
                }
            }
        }
    }
    report("PostgreSQL logins ({SSHA}, \(concurrency) concurrent)", count: pgLogins, time: pgLoginTime)
}
