import Logging
import MailConfig
import ServiceLifecycle

/// What a service gets from the daemon: the live config, a logger labelled with its name,
/// and the two calls every listener makes once its sockets are bound.
public struct ServiceContext: Sendable {
    public let config: ConfigStore
    public let logger: Logger
    let sink: MailLogSink
    let gate: ReadyGate

    public init(config: ConfigStore, logger: Logger, sink: MailLogSink, gate: ReadyGate) {
        self.config = config
        self.logger = logger
        self.sink = sink
        self.gate = gate
    }

    /// Prints the contract line `SERVICE listening on ADDRESS:PORT` (DESIGN.md demo site),
    /// with the address and port actually bound.
    public func announceListening(_ kind: ServiceKind, on endpoint: ListenEndpoint) {
        sink.announce("\(kind.rawValue) listening on \(endpoint)")
    }

    /// Call once, when every socket of this service is bound: the daemon says `ready` after
    /// all services have.
    public func markReady() {
        gate.markReady()
    }
}

/// A network service of the daemon (SMTP, IMAP, POP3, web, metrics). One plugin may serve
/// several `ServiceKind`s (`esmtpd`, `esmtpd-msa`, `esmtpd-ssl`); the daemon asks it for one
/// `Service` per enabled listener, runs them in one ServiceGroup, and stops them gracefully.
///
/// A service must bind its sockets, call `context.announceListening` per endpoint, then
/// `context.markReady()` exactly once, then serve until graceful shutdown.
public protocol ListenerPlugin: Sendable {
    /// The services this plugin implements.
    var kinds: [ServiceKind] { get }
    /// Builds the service for one enabled listener.
    func makeService(for listener: ListenerConfig, context: ServiceContext) throws -> any Service
}

/// The plugins `courier start` knows, by service kind.
public struct ServiceRegistry: Sendable {
    public private(set) var plugins: [any ListenerPlugin]

    public init(_ plugins: [any ListenerPlugin] = []) {
        self.plugins = plugins
    }

    public mutating func register(_ plugin: any ListenerPlugin) {
        plugins.append(plugin)
    }

    /// The plugin serving `kind`, if this build has one.
    public func plugin(for kind: ServiceKind) -> (any ListenerPlugin)? {
        plugins.first { $0.kinds.contains(kind) }
    }

    /// An empty registry. The protocol servers depend on this module, so `courier start`
    /// builds its registry in the executable (`ServiceRegistry.courier` in
    /// Sources/courier/Services.swift); each issue that builds a service adds its plugin there.
    public static let standard = ServiceRegistry([])
}
