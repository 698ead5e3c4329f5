import Logging
import MailAuthCore
import MailConfig
import Synchronization

/// The module chain of a running daemon, rebuilt after each configuration reload (SIGHUP):
/// `authmodulelist`, `DEFAULTOPTIONS`, `DEBUG_LOGIN` and `authpgsqlrc` are read again, and
/// `etc/userdb` is recompiled when it changed since `userdb.dat` was made (as if the admin had
/// run makeuserdb; bad lines are logged and skipped). A broken new auth configuration is
/// logged and the previous chain kept.
///
/// `generation` says which reload is current (the daemon's `ConfigStore.generation`); the
/// chain is rebuilt on the first use after it moved.
public final class AuthChainSource: Sendable {
    public let root: ConfigRoot
    private let logger: Logger
    private let generation: @Sendable () -> Int
    private let state: Mutex<(generation: Int, chain: AuthChain, configuration: AuthConfiguration)>

    /// Loads the chain now; throws when the auth configuration is bad (the daemon does not start).
    public init(root: ConfigRoot, logger: Logger, generation: @escaping @Sendable () -> Int) throws(ConfigError) {
        self.root = root
        self.logger = logger
        self.generation = generation
        let configuration = try AuthConfiguration.load(root: root)
        state = Mutex((generation(), configuration.makeChain(logger: logger), configuration))
    }

    /// The configuration the current chain was built from.
    public var configuration: AuthConfiguration {
        _ = chain
        return state.withLock { $0.configuration }
    }

    /// False while a reload waits to be applied: the next use of `chain` rebuilds it, reading
    /// the auth configuration and maybe recompiling the userdb (file work that must not run on
    /// an event loop).
    public var isCurrent: Bool {
        let now = generation()
        return state.withLock { $0.generation == now }
    }

    /// The current chain (rebuilt first when the configuration was reloaded since).
    public var chain: AuthChain {
        let now = generation()
        return state.withLock { state in
            guard state.generation != now else { return state.chain }
            state.generation = now
            Self.recompileUserdbIfChanged(UserdbPaths(source: root.etc("userdb")), logger: logger)
            do {
                let configuration = try AuthConfiguration.load(root: root)
                state.chain = configuration.makeChain(logger: logger)
                state.configuration = configuration
                logger.info("auth modules reloaded: \(configuration.moduleNames.joined(separator: " "))")
            } catch {
                logger.error("auth reload failed, keeping the previous modules: \(error)")
            }
            return state.chain
        }
    }

    /// makeuserdb, when `etc/userdb` (a file or a directory of files) is newer than
    /// `userdb.dat`. Bad lines are logged as FILE:LINE: reason and left out.
    static func recompileUserdbIfChanged(_ paths: UserdbPaths, logger: Logger) {
        guard let compiled = AuthFiles.version(paths.database) else { return }   // none: read from source
        // Equal times count as changed: file times tick coarsely, and a needless compile is harmless.
        guard let newest = newestModification(paths.source), newest >= compiled.modifiedNanoseconds else { return }
        do {
            let report = try UserdbCompiler.make(paths)
            for problem in report.problems {
                logger.warning("\(problem); line skipped")
            }
            logger.info("\(paths.source) changed: recompiled \(report.accounts) accounts")
        } catch {
            logger.error("\(paths.source) changed but cannot be compiled: \(error); keeping \(paths.database)")
        }
    }

    private static func newestModification(_ source: String) -> Int? {
        guard let own = AuthFiles.version(source) else { return nil }
        guard AuthFiles.isDirectory(source), let files = try? AuthFiles.filesUnder(source) else {
            return own.modifiedNanoseconds
        }
        return files.compactMap { AuthFiles.version($0)?.modifiedNanoseconds }.reduce(own.modifiedNanoseconds, max)
    }
}
