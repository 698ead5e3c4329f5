#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import MailAuthCore
import Synchronization

/// Lookups and verifications per second with many users (issue #4), in whatever build runs it
/// (`courier bench-auth`, a hidden command that Benchmarks/bench-auth.sh calls on the release
/// binary; the AuthBenchmark test calls it in test builds). It measures; it does not judge.
/// Each result is handed to `report` as (label, count, seconds); a measurement in which any
/// lookup or login did not succeed stops the run (a failure is no speed).
public enum AuthBenchmarkRun {
    /// PostgreSQL to measure too (a `passwd` table in Courier's layout holding the same users).
    public struct Postgres: Sendable {
        public var port: Int
        public var user: String
        public var password: String?

        public init(port: Int, user: String, password: String? = nil) {
            self.port = port
            self.user = user
            self.password = password
        }
    }

    public typealias Report = @Sendable (_ label: String, _ count: Int, _ seconds: Double) -> Void

    /// Why the run stopped.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let elapsed = try await ContinuousClock().measure { try await body() }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Runs every measurement with `users` accounts in a fresh temporary directory.
    public static func run(users: Int, postgres: Postgres?, report: Report) async throws {
        guard users > 0, users <= 10_000_000 else { throw Failure(description: "users must be from 1 to 10000000") }
        var template = Array("/tmp/courier-authbench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "cannot make a temporary directory") }
        let directory = String(cString: made)
        defer { removeTree(directory) }
        let source = directory + "/userdb"
        let stored = try PasswordMaker.make("benchpw", method: .ldapSSHA1)
        var text = ""
        text.reserveCapacity(users * 120)
        for index in 0..<users {
            text += "user\(index)@bench.test\tuid=1000|gid=1000|home=/srv/mail/user\(index)|mail=/srv/mail/user\(index)/Maildir|systempw=\(stored)\n"
        }
        try AuthFiles.replace(source, temporary: source + ".new", bytes: Array(text.utf8), mode: 0o600)
        let compile = try await seconds { _ = try UserdbCompiler.make(UserdbPaths(source: source)) }
        report("makeuserdb (\(users) users)", users, compile)

        let store = UserdbStore(source: source)
        let names = (0..<100_000).map { "user\(($0 &* 7919) % users)@bench.test" }
        var found = 0
        let lookups = try await seconds { for name in names where try store.lookup(name) != nil { found += 1 } }
        try check("userdb lookups", found, of: names.count)
        report("userdb lookups", names.count, lookups)

        for method in [PasswordMaker.Method.ldapSSHA1, .ldapSHA256, .md5crypt, .sha512crypt, .yescrypt] {
            let hash = try PasswordMaker.make("benchpw", method: method)
            let rounds = method.rawValue.hasPrefix("$") ? 200 : 20_000
            var matched = 0
            let time = await seconds {
                for _ in 0..<rounds where PasswordVerifier.verify("benchpw", against: hash) { matched += 1 }
            }
            try check("verify \(method.rawValue)", matched, of: rounds)
            report("verify \(method.rawValue)", rounds, time)
        }

        let chain = AuthChain(modules: [UserdbModule(store: store)])
        let logins = 20_000
        var loggedIn = 0
        let loginTime = await seconds {
            for index in 0..<logins {
                if case .success = await chain.authenticate(.password(user: names[index], password: Array("benchpw".utf8)),
                                                            service: "imap") {
                    loggedIn += 1
                }
            }
        }
        try check("userdb logins", loggedIn, of: logins)
        report("userdb logins ({SSHA}, through the chain)", logins, loginTime)

        try await socket(directory: directory, chain: chain, names: names, report: report)
        if let postgres {
            try await database(postgres, names: names, report: report)
        }
    }

    /// The authdaemon socket: what per-message tools (and Courier's clients) pay per lookup,
    /// one connection per request, from 4 client threads.
    static func socket(directory: String, chain: AuthChain, names: [String], report: Report) async throws {
        let socketPath = directory + "/authdaemon/socket"
        let server = AuthDaemonServer(socketPath: socketPath, responder: AuthDaemonResponder(chain: chain))
        let channel = try await server.bind()
        let clients = 4
        let client = AuthDaemonClient(socketPath: socketPath)
        for (label, count, login) in [("PRE lookups", 20_000, false), ("AUTH logins ({SSHA})", 5_000, true)] {
            let answered = Atomic<Int>(0)
            let time = await seconds {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async {
                        DispatchQueue.concurrentPerform(iterations: clients) { worker in
                            for index in stride(from: worker, to: count, by: clients) {
                                let outcome = login
                                    ? try? client.authenticate(service: "imap", .login(user: names[index], password: Array("benchpw".utf8)))
                                    : try? client.lookup(user: names[index], service: "courier")
                                if case .account = outcome { answered.add(1, ordering: .relaxed) }
                            }
                        }
                        done.resume()
                    }
                }
            }
            try check("authdaemon socket \(label)", answered.load(ordering: .relaxed), of: count)
            report("authdaemon socket \(label) (\(clients) client threads)", count, time)
        }
        try await channel.close()
    }

    /// PostgreSQL lookups and logins, 16 at once.
    static func database(_ postgres: Postgres, names: [String], report: Report) async throws {
        var settings = PgsqlSettings()
        settings.host = "127.0.0.1"
        settings.port = postgres.port
        settings.user = postgres.user
        settings.password = postgres.password
        settings.database = "mail"
        settings.maxConnections = 16
        let module = PgsqlModule(settings: settings)
        defer { module.shutdown() }
        let chain = AuthChain(modules: [module])
        let concurrency = 16
        for (label, count, login) in [("lookups", 20_000, false), ("logins ({SSHA})", 5_000, true)] {
            var hits = 0
            let time = await seconds {
                hits = await withTaskGroup(of: Int.self) { group in
                    for worker in 0..<concurrency {
                        group.addTask {
                            var hits = 0
                            for index in stride(from: worker, to: count, by: concurrency) {
                                let result = login
                                    ? await chain.authenticate(.password(user: names[index], password: Array("benchpw".utf8)), service: "imap")
                                    : await chain.lookup(user: names[index], service: "imap")
                                if case .success = result { hits += 1 }
                            }
                            return hits
                        }
                    }
                    return await group.reduce(0, +)
                }
            }
            try check("PostgreSQL \(label)", hits, of: count)
            report("PostgreSQL \(label) (\(concurrency) concurrent)", count, time)
        }
    }

    static func check(_ label: String, _ succeeded: Int, of count: Int) throws {
        guard succeeded == count else { throw Failure(description: "\(label): \(succeeded) of \(count) succeeded") }
    }

    /// Removes the benchmark's directory (files and one level of subdirectories).
    static func removeTree(_ path: String) {
        guard let dir = opendir(path) else { return }
        while let entry = readdir(dir) {
            // d_name is read in place up to its NUL (copying the 256-byte field reads past a short
            // record at the end of readdir's buffer).
            let name = String(cString: (UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name == "." || name == ".." { continue }
            let full = path + "/" + name
            if unlink(full) != 0 { removeTree(full) }
        }
        closedir(dir)
        rmdir(path)
    }
}
