import Logging
import MailAuthCore
import PostgresNIO

/// `authpgsql`: accounts in PostgreSQL (spec/access.md §4.7), through postgres-nio's pooled
/// `PostgresClient`. Every user-supplied value is a bound parameter. A database that is down,
/// slow (over `PGSQL_TIMEOUT`) or failing is a temporary failure, never "wrong password".
public final class PgsqlModule: AuthModule, @unchecked Sendable {
    // @unchecked: all stored properties are immutable; `PostgresClient` is Sendable and the
    // task handle is only cancelled.
    public let name = "authpgsql"
    public let settings: PgsqlSettings
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    public init(settings: PgsqlSettings, logger: Logger = Logger(label: "courier.auth.pgsql")) {
        self.settings = settings
        self.logger = logger
        var configuration: PostgresClient.Configuration
        if settings.host.hasPrefix("/") {
            // libpq: a host starting with '/' is the socket directory.
            configuration = PostgresClient.Configuration(
                unixSocketPath: settings.host + "/.s.PGSQL.\(settings.port)", username: settings.user,
                password: settings.password, database: settings.database)
        } else {
            configuration = PostgresClient.Configuration(
                host: settings.host, port: settings.port, username: settings.user, password: settings.password,
                database: settings.database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(Int64(settings.timeoutSeconds))
        configuration.options.maximumConnections = settings.maxConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.runner = Task { await client.run() }
    }

    deinit {
        runner.cancel()
    }

    /// Stops the connection pool.
    public func shutdown() {
        runner.cancel()
    }

    public func lookup(user: String, service: String) async -> ModuleLookup {
        let statement = PgsqlQueryBuilder.select(settings, user: user, service: service)
        let rows: [[String?]]
        do {
            rows = try await run(statement)
        } catch {
            return .temporaryFailure("authpgsql: \(error)")
        }
        guard let row = rows.first else { return .notFound }
        if rows.count > 1 {
            logger.warning("authpgsql: \(rows.count) rows for one login; using the first")
        }
        // username, cryptpw, clearpw, uid, gid, home, maildir, quota, fullname, options
        func column(_ index: Int) -> String? {
            guard index < row.count, let value = row[index], !value.isEmpty else { return nil }
            return value
        }
        guard let home = column(5) else { return .notFound }
        let crypted = column(1)
        let account = AuthAccount(
            address: column(0) ?? user, uid: column(3), gid: column(4), home: home, maildir: column(6),
            quota: column(7), fullName: column(8), options: AccountOptions(parsing: column(9) ?? ""),
            cryptedPassword: crypted)
        return .found(StoredAccount(account: account, cryptedPassword: crypted, clearPassword: column(2)))
    }

    public func enumerate() async -> [AuthAccount]? {
        guard let rows = try? await run(PgsqlQueryBuilder.enumerate(settings)) else { return nil }
        return rows.compactMap { row in
            func column(_ index: Int) -> String? {
                guard index < row.count, let value = row[index], !value.isEmpty else { return nil }
                return value
            }
            guard let name = column(0), let home = column(3) else { return nil }
            return AuthAccount(address: name, uid: column(1), gid: column(2), home: home, maildir: column(4),
                               options: AccountOptions(parsing: column(5) ?? ""))
        }
    }

    /// Changes a password (PGSQL_CHPASS_CLAUSE or an UPDATE of the password columns).
    public func changePassword(user: String, newPassword: String, newCrypt: String) async throws {
        _ = try await run(PgsqlQueryBuilder.changePassword(settings, user: user, newPassword: newPassword, newCrypt: newCrypt))
    }

    /// Runs a statement with a deadline; every column comes back as text (or nil for NULL).
    func run(_ statement: PgsqlStatement) async throws -> [[String?]] {
        var bindings = PostgresBindings(capacity: statement.binds.count)
        for value in statement.binds { bindings.append(value) }
        let query = PostgresQuery(unsafeSQL: statement.sql, binds: bindings)
        let client = self.client
        let logger = self.logger
        let timeout = settings.timeoutSeconds
        return try await withThrowingTaskGroup(of: [[String?]].self) { group in
            group.addTask {
                var rows: [[String?]] = []
                for try await row in try await client.query(query, logger: logger) {
                    rows.append(row.map(Self.text))
                    if rows.count > 2 { break }   // one is used; more only draw a warning
                }
                return rows
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                throw PgsqlTimeout(seconds: timeout)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw PgsqlTimeout(seconds: timeout) }
            return first
        }
    }

    /// A cell as text, whatever its column type (custom SELECT clauses may return integers).
    static func text(_ cell: PostgresCell) -> String? {
        guard cell.bytes != nil else { return nil }
        // String decoding accepts any bytes, so integer columns must be decoded by their type.
        switch cell.dataType {
        case .int2, .int4, .int8:
            return (try? cell.decode(Int64.self)).map { String($0) }
        case .bool:
            return (try? cell.decode(Bool.self)).map { $0 ? "1" : "0" }
        case .text, .varchar, .bpchar, .name, .unknown:
            return try? cell.decode(String.self)
        default:
            if let value = try? cell.decode(Int64.self) { return String(value) }
            return try? cell.decode(String.self)
        }
    }
}

/// A query took longer than PGSQL_TIMEOUT.
struct PgsqlTimeout: Error, CustomStringConvertible {
    var seconds: Int
    var description: String { "no answer from PostgreSQL within \(seconds) s" }
}
