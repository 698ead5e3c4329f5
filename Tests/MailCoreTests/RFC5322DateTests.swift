import Testing
@testable import MailCore

struct RFC5322DateTests {
    @Test(arguments: [
        ("Thu, 26 Nov 2026 17:36:45 +0000", Int64(1_795_714_605), 0),
        ("26 Nov 2026 18:36:45 +0100", Int64(1_795_714_605), 60),
        ("Thu, 26 Nov 2026 12:36:45 EST", Int64(1_795_714_605), -300),
        ("Thu, 26 Nov 26 17:36:45 GMT", Int64(1_795_714_605), 0),
        ("Thu (comment), 26 (x) Nov 2026 17:36 +0000", Int64(1_795_714_560), 0),
        ("Mon, 1 Jan 1990 00:00:00 -0000", Int64(631_152_000), 0),
        ("1 Jan 090 00:00:00 +0000", Int64(631_152_000), 0),
        ("Tue, 29 Feb 2000 23:59:59 -0830", Int64(951_868_799 + 8 * 3600 + 30 * 60), -510),
        ("Wed, 31 Dec 1969 23:59:59 +0000", Int64(-1), 0),
    ])
    func parses(_ text: String, _ epoch: Int64, _ offset: Int) throws {
        let d = try #require(RFC5322Date(parsing: Array(text.utf8)))
        #expect(d.epochSeconds == epoch)
        #expect(d.offsetMinutes == offset)
    }

    @Test(arguments: ["", "garbage", "32 Jan 2020 10:00:00 +0000", "1 Foo 2020 10:00 +0000",
                      "1 Jan 2020", "1 Jan 2020 25:00 +0000"])
    func rejects(_ text: String) {
        #expect(RFC5322Date(parsing: Array(text.utf8)) == nil)
    }

    @Test func hostileInputIsBounded() {
        #expect(RFC5322Date(parsing: [UInt8](repeating: UInt8(ascii: "("), count: 100_000)) == nil)
        #expect(RFC5322Date(parsing: [UInt8](repeating: UInt8(ascii: "9"), count: 100_000)) == nil)
    }

    @Test func formats() {
        #expect(RFC5322Date(epochSeconds: 1_795_714_605).formatted == "Thu, 26 Nov 2026 17:36:45 +0000")
        #expect(RFC5322Date(epochSeconds: 1_795_714_605, offsetMinutes: -510).formatted
                == "Thu, 26 Nov 2026 09:06:45 -0830")
        #expect(RFC5322Date(epochSeconds: 0, offsetMinutes: 60).formatted == "Thu, 1 Jan 1970 01:00:00 +0100")
    }

    @Test func roundTrip() throws {
        for t in stride(from: Int64(-2_000_000_000), to: 4_000_000_000, by: 86_399 * 37) {
            for off in [-720, -330, 0, 345, 840] {
                let d = RFC5322Date(epochSeconds: t, offsetMinutes: off)
                let back = try #require(RFC5322Date(parsing: d.formattedBytes))
                #expect(back == d)
            }
        }
    }

    /// Found by FuzzDate: `+9999` became 6039 minutes, formatted as `+10039`, which parsed back
    /// as another offset. An offset past 23:59 now counts as +0000, as in Courier's rfc822_parsedt.
    @Test(arguments: ["1 Jan 2000 00:00:00 +9999", "1 Jan 2000 00:00:00 +0060", "1 Jan 2000 00:00:00 -2400"])
    func offsetOutOfRangeIsZero(_ text: String) throws {
        let d = try #require(RFC5322Date(parsing: Array(text.utf8)))
        #expect(d.offsetMinutes == 0)
        #expect(d.epochSeconds == 946_684_800)
        #expect(RFC5322Date(parsing: d.formattedBytes) == d)
    }

    /// Found by FuzzDate: a leap second on 31 Dec 9999 rolled into year 10000, which formatted as
    /// five digits and did not parse back. Such a date is now rejected; other leap seconds still count.
    @Test func leapSecondPastYear9999IsRejected() throws {
        #expect(RFC5322Date(parsing: Array("31 Dec 9999 23:59:60 -2359".utf8)) == nil)
        let d = try #require(RFC5322Date(parsing: Array("31 Dec 9998 23:59:60 +0000".utf8)))
        #expect(d.formatted == "Fri, 1 Jan 9999 00:00:00 +0000")
        #expect(RFC5322Date(parsing: d.formattedBytes) == d)
    }
}
