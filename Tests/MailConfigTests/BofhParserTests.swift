import Testing
@testable import MailConfig

struct BofhParserTests {
    @Test func everyDirective() throws {
        let settings = try BofhParser.parse("""
            # comment
            BADFROM spammer@Example.ORG
            badfrom @junk.test   # trailing comment
            badfrom @.sub.test
            badfrom user@.deep.test
            badmx 192.0.2.66 192.0.2.67
            freemail gmail.test googlemail.test
            spamtrap Trap@Example.test
            maxrcpts 50 hard
            opt BOFHCHECKHELO=1
            opt BOFHSPFHELO=pass,none

            """, file: "bofh")
        #expect(settings.badFrom.count == 4)
        #expect(settings.refusesSender(user: "spammer", domain: "example.org"))
        #expect(!settings.refusesSender(user: "other", domain: "example.org"))
        #expect(settings.refusesSender(user: "anyone", domain: "JUNK.test"))
        #expect(!settings.refusesSender(user: "anyone", domain: "sub.test"))
        #expect(settings.refusesSender(user: "anyone", domain: "a.sub.test"))
        #expect(settings.refusesSender(user: "user", domain: "x.deep.test"))
        #expect(!settings.refusesSender(user: "other", domain: "x.deep.test"))
        #expect(settings.badMX == ["192.0.2.66", "192.0.2.67"])
        #expect(settings.freemailRelays(for: "Gmail.test") == ["gmail.test", "googlemail.test"])
        #expect(settings.isSpamTrap("trap@example.TEST"))
        #expect(settings.maxRecipients == 50 && settings.maxRecipientsHard)
        #expect(settings.options == ["BOFHCHECKHELO": "1", "BOFHSPFHELO": "pass,none"])
    }

    @Test func defaults() throws {
        let settings = try BofhParser.parse("", file: "bofh")
        #expect(settings.maxRecipients == 100 && !settings.maxRecipientsHard)
        #expect(settings.badFrom.isEmpty && settings.spamTraps.isEmpty)
    }

    @Test(arguments: ["badfrom", "badfrom nodomain", "badfrom user@", "maxrcpts x", "maxrcpts 0", "maxrcpts 5 soft",
                      "opt NOEQUALS", "opt =x", "spamtrap nobody", "whatever 1"])
    func errorsNameTheLine(text: String) {
        #expect(throws: ConfigError.self) { try BofhParser.parse("# ok\n" + text + "\n", file: "bofh") }
        do {
            _ = try BofhParser.parse("# ok\n" + text + "\n", file: "bofh")
        } catch {
            #expect(error.line == 2)
        }
    }
}
