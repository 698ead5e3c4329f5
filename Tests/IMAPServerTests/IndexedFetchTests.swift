#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// Messages whose headers exercise the ENVELOPE rules: folding, RFC 2047 words, groups,
/// missing and repeated fields, a References chain.
let envelopeSamples = [
    "From: Ann <ann@example.test>\nTo: u@example.test\nSubject: Hi\nDate: Mon, 2 Feb 2026 10:00:00 +0100\n\nbody\n",
    "From: =?UTF-8?Q?J=C3=BCrgen?= <jurgen@example.test>\nTo: a@example.test,\n b@example.test, \"C, D\" <cd@example.test>\n"
        + "Cc: Team: x@example.test, y@example.test;\nSubject: =?ISO-8859-1?Q?caf=E9?= and\n  more\n"
        + "Message-ID: <1@example.test>\nIn-Reply-To: <0@example.test>\nReferences: <0@example.test>\n"
        + "Reply-To: r@example.test\nSender: s@example.test\nBcc: hidden@example.test\n\nbody\n",
    "Subject: no from\n\nbody\n",
    "From: first@example.test\nFrom: second@example.test\nSubject:   spaced   \n\n",
    "Content-Type: multipart/mixed; boundary=b\nFrom: m@example.test\nSubject: report\n\n--b\nContent-Type: text/plain\n\nx\n--b--\n",
]

@Suite struct IndexedFetchTests {
    /// The ENVELOPE part of a FETCH response line.
    static func envelope(_ response: String) -> String {
        guard let start = response.range(of: "ENVELOPE (") else { return "" }
        var depth = 0
        var inQuote = false
        var previous: Character = " "
        var out = ""
        for c in response[response.index(start.lowerBound, offsetBy: 9)...] {
            out.append(c)
            if c == "\"" && previous != "\\" { inQuote.toggle() }
            if !inQuote { if c == "(" { depth += 1 } else if c == ")" { depth -= 1; if depth == 0 { break } } }
            previous = c
        }
        return out
    }

    @Test func envelopeFromTheSummariesEqualsTheOneFromTheMessage() throws {
        let m = try TemporaryMaildir()
        for text in envelopeSamples { try m.deliver(text) }
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        for n in 1...envelopeSamples.count {
            // ENVELOPE alone comes from the summary; after BODY.PEEK[HEADER] from the loaded message.
            let cached = Self.envelope(t.run("b FETCH \(n) (ENVELOPE)"))
            let parsed = Self.envelope(t.run("c FETCH \(n) (BODY.PEEK[HEADER] ENVELOPE)"))
            #expect(!cached.isEmpty)
            #expect(cached == parsed, "message \(n)")
        }
        // The summaries were written for later sessions and other processes.
        #expect(SystemCall.status(m.path + "/courierswiftsummaries") != nil)
        var second = MailboxTranscript(m)
        _ = second.run("a SELECT INBOX")
        #expect(Self.envelope(second.run("b FETCH 2 (ENVELOPE)")) == Self.envelope(t.run("b FETCH 2 (ENVELOPE)")))
    }

    @Test func headerSearchSortAndThreadUseTheSummaries() throws {
        let m = try TemporaryMaildir()
        for text in envelopeSamples { try m.deliver(text) }
        var t = MailboxTranscript(m)
        _ = t.run("a SELECT INBOX")
        #expect(t.run("b SEARCH FROM jurgen") == "* SEARCH 2\r\nb OK SEARCH done.\r\n")
        #expect(t.run("c SEARCH FROM Jürgen".replacingOccurrences(of: "Jürgen", with: "J\u{FC}rgen")).contains("* SEARCH 2\r\n"))
        #expect(t.run("d SEARCH SUBJECT café").contains("* SEARCH 2\r\n"))
        #expect(t.run("e SEARCH SUBJECT report") == "* SEARCH 5\r\ne OK SEARCH done.\r\n")
        #expect(t.run("f SEARCH FROM \"\"") == "* SEARCH 1 2 4 5\r\nf OK SEARCH done.\r\n")
        #expect(t.run("g SEARCH HEADER Content-Type multipart") == "* SEARCH 5\r\ng OK SEARCH done.\r\n")
        #expect(t.run("h SEARCH CC x@example") == "* SEARCH 2\r\nh OK SEARCH done.\r\n")
        #expect(t.run("i SEARCH LARGER 100") == "* SEARCH 1 2 5\r\ni OK SEARCH done.\r\n")
        #expect(t.run("j SEARCH SINCE 1-Jan-2000 SMALLER 100") == "* SEARCH 3 4\r\nj OK SEARCH done.\r\n")
        #expect(t.run("k SEARCH SENTON 2-Feb-2026") == "* SEARCH 1\r\nk OK SEARCH done.\r\n")
        #expect(t.run("l SORT (SUBJECT) UTF-8 ALL") == "* SORT 2 1 3 5 4\r\nl OK SORT done.\r\n")
        #expect(t.run("m THREAD REFERENCES UTF-8 ALL").hasPrefix("* THREAD "))
    }

    @Test func aSettledFolderOpensFromTheSnapshotWithTheSameAnswer() throws {
        let m = try TemporaryMaildir()
        for text in envelopeSamples { try m.deliver(text) }
        var first = MailboxTranscript(m)
        _ = first.run("a SELECT INBOX")
        _ = first.run("b STORE 2 +FLAGS (\\Flagged)")
        // Make the directory times old, as a folder nobody touched for a while.
        var old = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        for dir in ["/new", "/cur", "/courierimapuiddb", ""] { _ = utimensat(AT_FDCWD, m.path + dir, &old, 0) }
        var second = MailboxTranscript(m)
        let full = second.run("a SELECT INBOX")
        #expect(SystemCall.status(m.path + "/courierswiftsnapshot") != nil)
        var third = MailboxTranscript(m)
        let warm = third.run("a SELECT INBOX")
        #expect(warm == full)
        #expect(warm.contains("* 5 EXISTS\r\n* 0 RECENT\r\n"))
        #expect(third.run("b FETCH 2 (FLAGS RFC822.SIZE)") == second.run("b FETCH 2 (FLAGS RFC822.SIZE)"))
        #expect(third.run("c FETCH 2 (FLAGS)").contains("\\Flagged"))
        // The snapshot's flag bits and the file-name parser agree on every system flag.
        _ = third.run("d STORE 1 FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
        // A later time than before: equal stamps would (rightly) make the old snapshot current.
        var old2 = [timespec(tv_sec: 1_000_000_100, tv_nsec: 0), timespec(tv_sec: 1_000_000_100, tv_nsec: 0)]
        for dir in ["/new", "/cur", "/courierimapuiddb", ""] { _ = utimensat(AT_FDCWD, m.path + dir, &old2, 0) }
        var fourth = MailboxTranscript(m)
        _ = fourth.run("a SELECT INBOX")   // full scan, saves the snapshot
        var fifth = MailboxTranscript(m)
        _ = fifth.run("a SELECT INBOX")    // from the snapshot
        #expect(fifth.run("b FETCH 1 (FLAGS)") == "* 1 FETCH (FLAGS (\\Draft \\Answered \\Flagged \\Deleted \\Seen))\r\nb OK FETCH completed.\r\n")
    }
}
