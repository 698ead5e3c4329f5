import Dispatch
import Glibc
import MailQueue
import Testing
@testable import Delivery

/// An account table in memory standing in for the auth modules (the real chain over
/// PostgreSQL is exercised in Tests/Interop/test_auth_pgsql.py).
struct TableAccounts: ExternalAccountSource {
    var accounts: [String: LocalAccount] = [:]
    var down = false

    func account(named name: String) async -> ExternalAccountAnswer {
        if down { return .temporaryFailure("database down") }
        return accounts[name.lowercased()].map { .found($0) } ?? .notFound
    }
}

/// Runs `body` on a Dispatch thread, as delivery runs on its thread pool: the waiting lookup
/// must never block the cooperative pool, whose tasks it waits for.
func onDeliveryThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}

struct ExternalAccountTests {
    func site(_ source: TableAccounts?) throws -> (TestSite, AddressRouter) {
        let site = try TestSite()
        var router = site.router
        router.externalAccounts = source
        return (site, router)
    }

    func account(_ site: TestSite, maildir: String? = nil) -> LocalAccount {
        let owner: (UInt32, UInt32) = getuid() == 0 ? TestSite.mailUser() : (getuid(), getgid())
        return LocalAccount(name: "pg@example.test", uid: owner.0, gid: owner.1, home: site.home, maildir: maildir)
    }

    @Test func routesThroughTheModulesOnlyForUnknownNames() async throws {
        let probe = try TestSite()
        let source = TableAccounts(accounts: ["pg@example.test": account(probe)])
        let (_, router) = try site(source)
        #expect(await router.route("pg@example.test") == .local)
        #expect(await router.route("demo@example.test") == .local)
        #expect(await router.route("nobody@example.test") == .unknownUser)
        #expect(await router.route("someone@remote.example") == .remote)
        // Without a `.courier-ext`, an extension does not name the account.
        #expect(await router.route("pg-ext@example.test") == .unknownUser)
    }

    @Test func moduleAccountsComeBeforeDomainAliases() async throws {
        let site = try TestSite(aliases: "@example.test: demo\n")
        var router = site.router
        router.externalAccounts = TableAccounts(accounts: ["pg@example.test": account(site)])
        guard case .resolved(.account(let found, "", "pg@example.test")) = await router.resolveThroughAuth("pg@example.test") else {
            Issue.record("pg@example.test is not the PostgreSQL account"); return
        }
        #expect(found.name == "pg@example.test")
        #expect(await router.resolveThroughAuth("other@example.test") == .resolved(.alias(["demo-other"])))
        let fixed = router
        #expect(await onDeliveryThread { fixed.resolveThroughAuthWaiting("other@example.test") } == .resolved(.alias(["demo-other"])))
        #expect(await router.resolveThroughAuth("demo@example.test") == .resolved(router.resolve("demo@example.test")))
    }

    @Test func aDownDatabaseIsATemporaryFailureForUnknownNamesOnly() async throws {
        let (_, router) = try site(TableAccounts(down: true))
        #expect(await router.route("pg@example.test") == .temporaryFailure("database down"))
        #expect(await router.route("demo@example.test") == .local)
        #expect(await router.route("x@remote.example") == .remote)
    }

    @Test func withoutModulesNothingChanges() async throws {
        let (_, router) = try site(nil)
        #expect(await router.route("pg@example.test") == .unknownUser)
        #expect(router.resolveThroughAuthWaiting("pg@example.test") == .resolved(.unknown))
    }

    @Test func deliveryWaitsForTheLookupOnItsThreadAndDefersWhenDown() async throws {
        let probe = try TestSite()
        let (site, router) = try self.site(TableAccounts(accounts: ["pg@example.test": account(probe, maildir: probe.home + "/Maildir")]))
        let transport = LocalTransport(router: router)
        let request = site.request("pg@example.test")
        let outcome = await onDeliveryThread { transport.deliver(request) }
        guard case .delivered = outcome else { Issue.record("\(outcome)"); return }
        var down = router
        down.externalAccounts = TableAccounts(down: true)
        let downTransport = LocalTransport(router: down)
        let deferred = await onDeliveryThread { downTransport.deliver(request) }
        guard case .deferred = deferred else { Issue.record("\(deferred)"); return }
        let unknownRequest = site.request("nobody@example.test")
        let unknown = await onDeliveryThread { transport.deliver(unknownRequest) }
        guard case .failed = unknown else { Issue.record("\(unknown)"); return }
    }

    @Test func anInstructionValueInTheMaildirPlaceIsDotCourier() throws {
        let (site, router) = try site(nil)
        let transport = LocalTransport(router: router)
        #expect(transport.defaultInstructions(account(site, maildir: "./Mail/")) == [.mailbox("./Mail/")])
        #expect(transport.defaultInstructions(account(site, maildir: "| /bin/cat")) == DotCourierParser.parse(Array("| /bin/cat".utf8)))
        #expect(transport.defaultInstructions(account(site, maildir: "!other@example.org")) == [.forward(["other@example.org"])])
        #expect(transport.defaultInstructions(account(site, maildir: "./Maildir\n| /bin/true")).count == 2)
    }
}
