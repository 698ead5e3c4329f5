#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import IMAP
@testable import IMAPServer
import MaildirCore

/// The number after `word (` or `word ` in `text`.
func number(after word: String, in text: String) -> UInt64? {
    guard let r = text.range(of: word) else { return nil }
    let digits = text[r.upperBound...].drop { $0 == "(" || $0 == " " }.prefix { $0.isNumber }
    return UInt64(digits)
}

@Suite struct CondStoreTests {
    @Test func selectFetchStoreWithModSeqs() throws {
        let m = try TemporaryMaildir()
        for _ in 0..<3 { try m.deliver(sample) }
        var t = MailboxTranscript(m)
        let select = t.run("a SELECT INBOX (CONDSTORE)")
        let highest = try #require(number(after: "[HIGHESTMODSEQ", in: select))
        #expect(select.hasSuffix("a OK [READ-WRITE] Ok\r\n"))
        let fetch = t.run("b FETCH 1:* (FLAGS MODSEQ)")
        #expect(fetch.contains("* 1 FETCH (FLAGS (\\Recent) MODSEQ (\(highest)))"))
        // A STORE gives the message a higher MODSEQ and reports it (with UID: CONDSTORE is on).
        let store = t.run("c STORE 2 +FLAGS (\\Flagged)")
        let modSeq = try #require(number(after: "MODSEQ", in: store))
        #expect(modSeq > highest)
        #expect(store.contains("* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ (\(modSeq)))"))
        // CHANGEDSINCE names only that message.
        #expect(t.run("d FETCH 1:* (FLAGS) (CHANGEDSINCE \(highest))")
                == "* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (\(modSeq)))\r\nd OK FETCH completed.\r\n")
        // UNCHANGEDSINCE: message 2 changed after `highest`, so it is left alone.
        let conditional = t.run("e STORE 1:3 (UNCHANGEDSINCE \(highest)) +FLAGS.SILENT (\\Seen)")
        #expect(conditional.hasSuffix("e OK [MODIFIED 2] Conditional STORE failed for some messages.\r\n"))
        #expect(conditional.contains("* 1 FETCH (UID 1 MODSEQ ("))
        #expect(!conditional.contains("* 2 FETCH"))
        #expect(t.run("f UID STORE 1 (UNCHANGEDSINCE 0) -FLAGS (\\Seen)").hasSuffix("f OK [MODIFIED 1] Conditional STORE failed for some messages.\r\n"))
        // SEARCH MODSEQ names the highest MODSEQ found.
        let search = t.run("g SEARCH MODSEQ \(modSeq)")
        let searchHighest = try #require(number(after: "(MODSEQ", in: search))
        #expect(search.hasPrefix("* SEARCH 1 2") && searchHighest > modSeq)
        #expect(t.run("h STATUS INBOX (HIGHESTMODSEQ)") == "* STATUS \"INBOX\" (HIGHESTMODSEQ \(searchHighest))\r\nh OK STATUS Completed.\r\n")
    }

    @Test func aFetchThatEnablesCondStoreReportsHighestModSeqFirst() throws {
        let m = try TemporaryMaildir()
        try m.deliver(sample)
        var t = MailboxTranscript(m)
        #expect(!t.run("a SELECT INBOX").contains("HIGHESTMODSEQ"))
        let fetch = t.run("b FETCH 1 (MODSEQ)")
        #expect(fetch.hasPrefix("* OK [HIGHESTMODSEQ "))
        #expect(fetch.contains("* 1 FETCH (MODSEQ ("))
        // From now on, SELECT reports it without being asked.
        #expect(t.run("c SELECT INBOX").contains("* OK [HIGHESTMODSEQ "))
    }

    @Test func otherSessionsAndOtherProgramsChangesGetModSeqs() throws {
        let m = try TemporaryMaildir()
        for _ in 0..<2 { try m.deliver(sample) }
        var a = MailboxTranscript(m)
        var b = MailboxTranscript(m)
        let highest = try #require(number(after: "[HIGHESTMODSEQ", in: a.run("a SELECT INBOX (CONDSTORE)")))
        _ = b.run("a SELECT INBOX (CONDSTORE)")
        _ = b.run("b STORE 1 +FLAGS (\\Answered)")
        // A plain rename by a program that knows nothing of mod-sequences.
        let cur = m.path + "/cur"
        let name = try #require(SystemCall.names(in: cur).first { !$0.contains("R") && $0.hasSuffix(":2,") })
        #expect(rename(cur + "/" + name, cur + "/" + name + "F") == 0)
        let noop = a.run("c NOOP")
        #expect(noop.contains("* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent) MODSEQ ("))
        #expect(noop.contains("* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ ("))
        let changed = a.run("d UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(highest))")
        #expect(changed.contains("UID 1") && changed.contains("UID 2"))
    }

    @Test func enableWhileSelectedAndVanishedAtNoop() throws {
        let m = try TemporaryMaildir()
        for _ in 0..<3 { try m.deliver(sample) }
        var a = MailboxTranscript(m)
        var b = MailboxTranscript(m)
        #expect(!a.run("a SELECT INBOX").contains("HIGHESTMODSEQ"))
        // Without CONDSTORE nothing changes in the answers.
        #expect(a.run("b STORE 1 +FLAGS.SILENT (\\Seen)") == "b OK STORE completed.\r\n")
        let enable = a.run("c ENABLE QRESYNC")
        #expect(enable.hasPrefix("* ENABLED QRESYNC\r\n* OK [HIGHESTMODSEQ "))
        #expect(enable.hasSuffix("c OK Options enabled\r\n"))
        _ = b.run("a SELECT INBOX")
        _ = b.run("b STORE 2 +FLAGS (\\Deleted)")
        #expect(b.run("c EXPUNGE").hasPrefix("* 2 EXPUNGE\r\n"))   // b has not enabled QRESYNC
        // a hears of it as VANISHED, never EXPUNGE; a FETCH in between reports nothing.
        #expect(!a.run("d FETCH 1:* (FLAGS)").contains("VANISHED"))
        let noop = a.run("e NOOP")
        #expect(noop.hasPrefix("* VANISHED 2\r\n") && !noop.contains("EXPUNGE"))
    }

    @Test func qresyncReportsVanishedEarlierAndVanished() throws {
        let m = try TemporaryMaildir()
        for _ in 0..<4 { try m.deliver(sample) }
        var a = MailboxTranscript(m)
        let select = a.run("a SELECT INBOX (CONDSTORE)")
        let validity = try #require(number(after: "[UIDVALIDITY", in: select))
        let highest = try #require(number(after: "[HIGHESTMODSEQ", in: select))
        #expect(a.run("b SELECT INBOX (QRESYNC (\(validity) \(highest)))").hasPrefix("b BAD "))
        #expect(a.run("c ENABLE QRESYNC").hasPrefix("* ENABLED QRESYNC\r\n"))
        _ = a.run("d STORE 2,3 +FLAGS (\\Deleted)")
        let expunge = a.run("e EXPUNGE")
        #expect(expunge.hasPrefix("* VANISHED 2:3\r\n"))
        #expect(!expunge.contains("EXPUNGE\r\n"))
        #expect(expunge.contains("e OK [HIGHESTMODSEQ "))
        #expect(a.run("f UID STORE 4 +FLAGS (\\Seen)").contains("* 2 FETCH (UID 4 FLAGS (\\Seen \\Recent) MODSEQ ("))
        // A client that last saw `highest` comes back.
        var b = MailboxTranscript(m)
        _ = b.run("a ENABLE QRESYNC")
        let resync = b.run("b SELECT INBOX (QRESYNC (\(validity) \(highest) 1:4))")
        #expect(resync.contains("* VANISHED (EARLIER) 2:3\r\n"))
        #expect(resync.contains("* 2 FETCH (UID 4 FLAGS (\\Seen) MODSEQ ("))
        #expect(!resync.contains("UID 1 "))
        // UID FETCH with VANISHED.
        let fetch = b.run("c UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(highest) VANISHED)")
        #expect(fetch.hasPrefix("* VANISHED (EARLIER) 2:3\r\n"))
        #expect(fetch.contains("UID 4"))
        // A wrong UIDVALIDITY: an ordinary SELECT.
        let wrong = b.run("d SELECT INBOX (QRESYNC (\(validity + 1) \(highest)))")
        #expect(!wrong.contains("VANISHED") && wrong.contains("[HIGHESTMODSEQ "))
    }
}
