import Delivery
import SMTP
import Testing
@testable import SMTPServer

/// RCPT answered on the event loop from a recent lookup (no task hop), and only then.
struct RecipientRouteCacheTests {
    @Test func remembersAnswersOfOneGeneration() {
        let cache = RecipientRouteCache()
        #expect(cache.route("demo@example.test", generation: 1) == nil)
        cache.remember(.local, for: "demo@example.test", generation: 1)
        cache.remember(.unknownUser, for: "nobody@example.test", generation: 1)
        #expect(cache.route("demo@example.test", generation: 1) == .local)
        #expect(cache.route("nobody@example.test", generation: 1) == .unknownUser)
        // Another address (case included) is another question.
        #expect(cache.route("Demo@example.test", generation: 1) == nil)
        // A reload forgets everything answered before it.
        #expect(cache.route("demo@example.test", generation: 2) == nil)
        #expect(cache.route("demo@example.test", generation: 1) == nil)
    }

    @Test func neverKeepsTemporaryFailures() {
        let cache = RecipientRouteCache()
        cache.remember(.temporaryFailure("ldap down"), for: "x@example.test", generation: 1)
        #expect(cache.route("x@example.test", generation: 1) == nil)
    }

    @Test func answersExpire() {
        let cache = RecipientRouteCache(lifetimeNanoseconds: 0)
        cache.remember(.local, for: "demo@example.test", generation: 1)
        #expect(cache.route("demo@example.test", generation: 1) == nil)
    }

    @Test func startsOverWhenFull() {
        let cache = RecipientRouteCache(capacity: 3)
        for number in 0..<3 { cache.remember(.local, for: "u\(number)@x.test", generation: 1) }
        #expect(cache.route("u2@x.test", generation: 1) == .local)
        cache.remember(.local, for: "u3@x.test", generation: 1)
        #expect(cache.route("u0@x.test", generation: 1) == nil)
        #expect(cache.route("u3@x.test", generation: 1) == .local)
    }
}

/// A lookup that knows some answers without asking (as `LiveRecipientLookup` after a lookup).
private struct CachedOnlyLookup: RecipientLookup {
    let known: [String: RecipientRoute]
    func route(_ address: String) async -> RecipientRoute { known[address] ?? .remote }
    func cachedRoute(_ address: String) -> RecipientRoute? { known[address] }
}

struct RelayPolicyWithoutLookupTests {
    private let lookup = CachedOnlyLookup(known: ["demo@example.test": .local, "nobody@example.test": .unknownUser,
                                                  "x@foreign.example": .remote])

    private func verdict(_ local: String, _ domain: String, relay: Bool = false, route: [String] = [],
                         block: SMTPReply? = nil) -> SMTPReply?? {
        RelayPolicy(isSubmission: false).checkWithoutLookup(SMTPMailbox(localPart: local, domain: domain, sourceRoute: route),
                                                             relayAllowed: relay, block: block, lookup: lookup)
    }

    @Test func answersFromTheCacheLikeTheFullCheck() async {
        #expect(verdict("demo", "example.test") == .some(nil))
        #expect(verdict("nobody", "example.test")??.code == 550)
        #expect(verdict("x", "foreign.example")??.code == 513)
        #expect(verdict("x", "foreign.example", relay: true) == .some(nil))
        #expect(verdict("demo", "example.test", block: Replies.blocked("go away"))??.code
            == Replies.blocked("go away").code)
        for (local, domain) in [("demo", "example.test"), ("nobody", "example.test"), ("x", "foreign.example")] {
            let mailbox = SMTPMailbox(localPart: local, domain: domain, sourceRoute: [])
            let full = await RelayPolicy(isSubmission: false).check(mailbox, relayAllowed: false, lookup: lookup)
            #expect(verdict(local, domain) == .some(full))
        }
    }

    @Test func routingTricksAreRefusedWithoutAnyLookup() {
        #expect(verdict("foreign.example!x", "example.test")??.code == 513)
        #expect(verdict("demo", "example.test", route: ["foreign.example"])??.code == 513)
        // the percent hack may allow `x%domain@ours` (esmtppercentrelay): that takes the lookup
        #expect(verdict("x%foreign.example", "example.test") == nil)
    }

    @Test func unknownAddressesNeedTheLookup() {
        #expect(verdict("someone", "example.test") == nil)
    }
}
