import Logging
import MailAuthCore
import MailConfig

/// authdaemonrc (spec/access.md §4.1) turned into a module chain: `authmodulelist` names the
/// modules in order (we have `authuserdb` and `authpgsql`), `DEFAULTOPTIONS` the default account
/// options, `DEBUG_LOGIN` how much to log, `daemons` how many authdaemon requests are worked on
/// at once. authpgsql reads `etc/authpgsqlrc`.
public struct AuthConfiguration: Sendable {
    public var moduleNames: [String]
    public var defaultOptions: AccountOptions
    public var debugLogin: Int
    public var userdbSource: String
    public var pgsql: PgsqlSettings?
    /// `daemons`: Courier starts this many authdaemond processes; we run this many requests of
    /// the authdaemon socket at once (the rest wait their turn). Default 5, as Courier ships it.
    public var workers = 5

    public static let supportedModules = ["authuserdb", "authpgsql"]

    /// Reads `etc/authdaemonrc` (missing: authuserdb only) and, when authpgsql is listed,
    /// `etc/authpgsqlrc`. Problems are reported with file and line.
    public static func load(root: ConfigRoot) throws(ConfigError) -> AuthConfiguration {
        let path = root.etc("authdaemonrc")
        var variables = ConfigVariables()
        do {
            if let bytes = try AuthFiles.read(path, limit: ConfigLimits.maxFileBytes) {
                variables.merge(try VariableFileParser.parse(bytes, file: path), file: path)
            }
        } catch let error as AuthFileError {
            throw ConfigError(file: path, line: nil, reason: error.reason)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, line: nil, reason: "\(error)")
        }
        let names = (variables["authmodulelist"] ?? "authuserdb").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        for name in names where !supportedModules.contains(name) {
            throw variables.error("authmodulelist", "authmodulelist: module \(name) is not available (have: \(supportedModules.joined(separator: ", ")))")
        }
        let debug = try variables.int("DEBUG_LOGIN", default: 0, in: 0...2)
        let workers = try variables.int("daemons", default: 5, in: 1...1000)
        var configuration = AuthConfiguration(
            moduleNames: names, defaultOptions: AccountOptions(parsing: variables["DEFAULTOPTIONS"] ?? ""),
            debugLogin: debug, userdbSource: root.etc("userdb"), pgsql: nil)
        configuration.workers = workers
        if names.contains("authpgsql") {
            let rc = root.etc("authpgsqlrc")
            let bytes: [UInt8]?
            do {
                bytes = try AuthFiles.read(rc, limit: ConfigLimits.maxFileBytes)
            } catch {
                throw ConfigError(file: rc, line: nil, reason: error.reason)
            }
            guard let bytes else {
                throw ConfigError(file: rc, line: nil, reason: "missing, but authmodulelist names authpgsql")
            }
            if let mode = AuthFiles.mode(rc), mode & 0o007 != 0 {
                throw ConfigError(file: rc, line: nil, reason: "holds the database password but everyone may read it; run chmod o-rwx \(rc)")
            }
            configuration.pgsql = try PgsqlSettings(parsing: bytes, file: rc)
        }
        return configuration
    }

    /// The module chain of a running daemon: rebuilt from the files after each reload
    /// (`generation` moves on SIGHUP; see `AuthChainSource`). Throws when the files are bad now.
    public static func liveChain(root: ConfigRoot, logger: Logger,
                                 generation: @escaping @Sendable () -> Int) throws(ConfigError) -> AuthChain {
        AuthChain(following: try AuthChainSource(root: root, logger: logger, generation: generation))
    }

    /// The module chain. PostgreSQL connections are made lazily by the pool.
    public func makeChain(logger: Logger = Logger(label: "courier.auth")) -> AuthChain {
        var modules: [any AuthModule] = []
        for name in moduleNames {
            switch name {
            case "authuserdb": modules.append(UserdbModule(source: userdbSource))
            case "authpgsql": if let pgsql { modules.append(PgsqlModule(settings: pgsql, logger: logger)) }
            default: break
            }
        }
        var chainLogger = logger
        if debugLogin > 0 { chainLogger.logLevel = .debug }
        return AuthChain(modules: modules, defaultOptions: defaultOptions, logger: chainLogger)
    }
}
