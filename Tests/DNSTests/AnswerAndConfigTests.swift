import Testing
@testable import DNS

/// Classifying replies (NXDOMAIN vs no data vs SERVFAIL, CNAME chains) and reading the config.
struct AnswerAndConfigTests {
    static let name = DNSName("example.net")!

    static func reply(_ code: DNSResponseCode, _ answers: [DNSResourceRecord] = []) -> DNSMessage {
        DNSMessage(header: DNSHeader(id: 1, isResponse: true, responseCode: code),
                   questions: [DNSQuestion(name: name, type: .a)], answers: answers)
    }

    @Test func rcodesAreClassified() throws {
        #expect(try DNSAnswerReader.step(for: Self.reply(.nameError), name: Self.name, type: .a) == .done(.noSuchDomain))
        #expect(try DNSAnswerReader.step(for: Self.reply(.noError), name: Self.name, type: .a) == .done(.noData))
        #expect(throws: DNSLookupError.serverFailure(.serverFailure)) {
            try DNSAnswerReader.step(for: Self.reply(.serverFailure), name: Self.name, type: .a)
        }
        #expect(DNSLookupError.serverFailure(.refused).isTemporary)
        #expect(DNSLookupError.timeout.isTemporary)
        #expect(!DNSLookupError.cnameLoop.isTemporary)
    }

    @Test func cnameChainInTheAnswerIsFollowed() throws {
        let alias = DNSName("www.example.net")!
        let target = DNSName("host.example.net")!
        let records = [
            DNSResourceRecord(name: Self.name, type: .cname, ttl: 60, data: .cname(alias)),
            DNSResourceRecord(name: alias, type: .cname, ttl: 60, data: .cname(target)),
            DNSResourceRecord(name: target, type: .a, ttl: 60, data: .a([192, 0, 2, 7])),
        ]
        #expect(try DNSAnswerReader.step(for: Self.reply(.noError, records), name: Self.name, type: .a)
                == .done(.records([records[2]])))
        // The chain ends without data: ask for the last target.
        #expect(try DNSAnswerReader.step(for: Self.reply(.noError, Array(records.prefix(2))), name: Self.name, type: .a)
                == .followCNAME(target))
    }

    @Test func cnameLoopIsBadDNS() {
        let other = DNSName("loop.example.net")!
        let records = [
            DNSResourceRecord(name: Self.name, type: .cname, ttl: 60, data: .cname(other)),
            DNSResourceRecord(name: other, type: .cname, ttl: 60, data: .cname(Self.name)),
        ]
        #expect(throws: DNSLookupError.cnameLoop) {
            try DNSAnswerReader.step(for: Self.reply(.noError, records), name: Self.name, type: .a)
        }
    }

    @Test func mxOrderIsByPreferenceWithEqualOnesShuffled() {
        let hosts: [(preference: UInt16, exchange: DNSName)] = [
            (20, DNSName("c.example")!), (10, DNSName("a.example")!), (10, DNSName("b.example")!), (5, DNSName("z.example")!),
        ]
        var firstOfTens: Set<String> = []
        for _ in 0..<200 {
            let ordered = DNSResolver.ordered(hosts)
            #expect(ordered.map(\.preference) == [5, 10, 10, 20])
            firstOfTens.insert(ordered[1].exchange.description)
        }
        #expect(firstOfTens == ["a.example", "b.example"])
    }

    @Test func resolvConfAndOverride() {
        let conf = ResolverConfiguration.parseResolvConf("""
            # comment
            search example.org
            nameserver 192.0.2.53
            nameserver 2001:db8::53
            options timeout:2 attempts:3 rotate
            """)
        #expect(conf.servers == [NameServer(host: "192.0.2.53"), NameServer(host: "2001:db8::53")])
        #expect(conf.timeoutSeconds == 2)
        #expect(conf.attempts == 3)
        #expect(ResolverConfiguration.parseResolvConf("").servers == [NameServer(host: "127.0.0.1")])
        #expect(ResolverConfiguration.parseServerList("127.0.0.1:5353, [::1]:5300 ::1")
                == [NameServer(host: "127.0.0.1", port: 5353), NameServer(host: "::1", port: 5300), NameServer(host: "::1")])
        #expect(ResolverConfiguration.parseServerList("127.0.0.1:notaport") == nil)
        #expect(ResolverConfiguration.parseServerList("") == nil)
        #expect(ResolverConfiguration.system(environment: ["DNS_SERVER": "127.0.0.1:5353"]).servers
                == [NameServer(host: "127.0.0.1", port: 5353)])
    }

    /// Courier's resolver appends resolv.conf's `domain` to a dotless name (not `search`'s).
    @Test func defaultDomain() {
        #expect(ResolverConfiguration.parseResolvConf("search example.org\nnameserver ::1\n").defaultDomain == nil)
        let conf = ResolverConfiguration.parseResolvConf("nameserver ::1\ndomain Example.NET.\n")
        #expect(conf.defaultDomain == "example.net")
        #expect(conf.qualified("mailhub") == "mailhub.example.net")
        #expect(conf.qualified("mail.example.org") == "mail.example.org")
        #expect(conf.qualified("::1") == "::1")
        #expect(ResolverConfiguration.parseResolvConf("domain\n").defaultDomain == nil)
        #expect(ResolverConfiguration.parseResolvConf("domain .\n").defaultDomain == nil)
        #expect(ResolverConfiguration(servers: []).qualified("mailhub") == "mailhub")
        let env = ResolverConfiguration.system(environment: ["LOCALDOMAIN": "corp.test other.test"])
        #expect(env.defaultDomain == "corp.test")
        #expect(env.qualified("hub") == "hub.corp.test")
    }
}

struct ReverseNameTests {
    @Test func reverseNames() {
        #expect(DNSName(reverseOf: "192.0.2.10")?.description == "10.2.0.192.in-addr.arpa")
        #expect(DNSName(reverseOf: "2001:db8::1")?.description
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        #expect(DNSName(reverseOf: "mail.example") == nil)
    }
}

struct DNSCacheTests {
    @Test func cacheKeepsEntriesCaseInsensitivelyAndEvictsWhenFull() async {
        let cache = DNSCache(capacity: 2)
        let a = DNSCache.Key(name: DNSName("A.example")!, type: .a)
        let b = DNSCache.Key(name: DNSName("b.example")!, type: .a)
        let c = DNSCache.Key(name: DNSName("c.example")!, type: .a)
        await cache.put(a, .noData, ttl: 300)
        #expect(await cache.get(DNSCache.Key(name: DNSName("a.EXAMPLE")!, type: .a)) == .noData)
        #expect(await cache.get(DNSCache.Key(name: DNSName("a.example")!, type: .mx)) == nil)
        await cache.put(b, .noSuchDomain, ttl: 100)
        await cache.put(c, .noData, ttl: 200)
        // Full: the entry closest to expiry (b) made room.
        #expect(await cache.get(b) == nil)
        #expect(await cache.get(a) == .noData)
        #expect(await cache.get(c) == .noData)
        // A zero TTL is never stored.
        await cache.put(b, .noData, ttl: 0)
        #expect(await cache.get(b) == nil)
    }

    @Test func truncationBitIsReadFromTheRawHeader() {
        #expect(DNSDecoder.isTruncated([0, 1, 0x83, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 3]))
        #expect(!DNSDecoder.isTruncated([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(!DNSDecoder.isTruncated([0, 1, 0x83]))
    }
}
