import Foundation
import Logging
@testable import MailConfig
import ServiceLifecycle
import Testing
@testable import CourierDaemon

private func emptySite(_ root: String = "/site") -> SiteConfig {
    SiteConfig(root: ConfigRoot(path: root), me: "mail.example.test", defaultDomain: "example.test", locals: [], hostedDomains: [],
               acceptMailFor: [], aliases: [], smtpAccess: [], userdb: [], queueTime: 1, sizeLimit: 0, dsnFrom: "",
               courierd: ConfigVariables(), mailUser: "mail", mailGroup: "mail", authdaemon: ConfigVariables(), listeners: [])
}

@Test func reloadReplacesTheConfigAndTellsSubscribers() async throws {
    let store = ConfigStore(emptySite()) { _ throws(ConfigLoadError) in
        var fresh = emptySite()
        fresh.me = "new.example.test"
        return fresh
    }
    let updates = store.updates()
    guard case .success = store.reload() else {
        Issue.record("reload failed")
        return
    }
    #expect(store.current.me == "new.example.test")
    #expect(store.generation == 1)
    var iterator = updates.makeAsyncIterator()
    #expect(await iterator.next()?.me == "new.example.test")
}

@Test func failedReloadKeepsTheOldConfig() {
    let problem = ConfigError(file: "/site/etc/imapd", line: 3, reason: "bad")
    let store = ConfigStore(emptySite()) { _ throws(ConfigLoadError) in throw ConfigLoadError([problem]) }
    guard case .failure(let error) = store.reload() else {
        Issue.record("bad config accepted")
        return
    }
    #expect(error.errors == [problem])
    #expect(store.current.me == "mail.example.test")
    #expect(store.generation == 0)
}

@Test func readyGateOpensAfterEveryService() async {
    let gate = ReadyGate(expected: 2)
    #expect(!gate.isOpen)
    gate.markReady()
    #expect(!gate.isOpen)
    async let waited = gate.wait()
    gate.markReady()
    #expect(await waited)
    #expect(gate.isOpen)
    gate.markReady()   // extra calls are harmless
    #expect(await ReadyGate(expected: 0).wait())
}

@Test func readyGateWaitEndsWhenCancelled() async {
    // A service that fails to bind never marks ready: the daemon cancels the group, and the
    // announcer waiting on the gate must give up rather than hang the daemon.
    let gate = ReadyGate(expected: 1)
    let waiter = Task { await gate.wait() }
    waiter.cancel()
    #expect(await waiter.value == false)
    #expect(!gate.isOpen)
}

private struct FakePlugin: ListenerPlugin {
    let kinds: [ServiceKind] = [.esmtpd, .esmtpdMSA]
    func makeService(for listener: ListenerConfig, context: ServiceContext) throws -> any Service {
        FakeService()
    }
}

private struct FakeService: Service {
    func run() async throws {}
}

@Test func registryFindsPluginsByKind() {
    var registry = ServiceRegistry()
    #expect(registry.plugin(for: .esmtpd) == nil)
    registry.register(FakePlugin())
    #expect(registry.plugin(for: .esmtpdMSA) != nil)
    #expect(registry.plugin(for: .imapd) == nil)
}

@Test func logLinesAreTimestampedOneLinePerEvent() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let sink = MailLogSink(path: path)
    #expect(sink.hasFile)
    let logger = Logger.mailLog("courier", sink: sink, level: .info)
    logger.info("first\nsecond", metadata: ["queue": "abc"])
    logger.debug("hidden")
    sink.announce("esmtpd listening on 127.0.0.1:2525")
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(lines.count == 2)
    #expect(lines[0].range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4} INFO courier: first \| second queue=abc$"#, options: .regularExpression) != nil, "\(lines[0])")
    #expect(lines[1].hasSuffix(" NOTICE esmtpd listening on 127.0.0.1:2525"))
}

@Test func daemonRefusesABadRoot() async {
    let status = await Daemon(root: ConfigRoot(path: "/nonexistent/courier-site")).run()
    #expect(status == Daemon.exitConfigError)
}
