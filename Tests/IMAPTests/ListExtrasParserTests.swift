import Testing
@testable import IMAP

/// LIST-EXTENDED options (RFC 5258, RFC 5819, RFC 6154, RFC 8440) and QRESYNC's seq-match-data
/// (RFC 7162 §3.2.5.2) in the parser.
@Suite struct ListExtrasParserTests {
    @Test func myRightsReturnOption() throws {
        guard case .list(let list) = command(#"a LIST "" "*" RETURN (MYRIGHTS STATUS (MESSAGES) CHILDREN)"#) else {
            Issue.record("LIST RETURN (MYRIGHTS) does not parse")
            return
        }
        #expect(list.returnMyRights && list.returnChildren && list.returnStatus == [.messages])
        guard case .list(let plain) = command(#"a LIST "" "*""#) else { return }
        #expect(!plain.returnMyRights)
    }

    @Test(arguments: [
        #"a LIST (REMOTE) "" "*""#, #"a LIST (SPECIAL-USE RECURSIVEMATCH) "" "%""#,
        #"a LIST (SUBSCRIBED REMOTE RECURSIVEMATCH) "" "*" RETURN (MYRIGHTS)"#,
        #"a LIST () "" ("INBOX" "INBOX.%") RETURN (SUBSCRIBED CHILDREN SPECIAL-USE MYRIGHTS STATUS (UIDNEXT SIZE))"#,
    ])
    func selectionAndReturnCombinations(_ text: String) {
        #expect(command(text) != nil, "\(text) should parse")
    }

    @Test(arguments: [
        #"a LIST (RECURSIVEMATCH REMOTE) "" "*""#,      // RFC 5258 §3: not alone, nor with REMOTE only
        #"a LIST "" "*" RETURN (MYRIGHTS"#, #"a LIST "" "*" RETURN (ACL)"#,
        "a SELECT INBOX (QRESYNC (1 2 1:5 (1:3)))", "a SELECT INBOX (QRESYNC (1 2 (1:3 *)))",
        "a SELECT INBOX (QRESYNC (1 2 1:*))", "a SELECT INBOX (QRESYNC (1 2 $))",
    ])
    func refused(_ text: String) {
        #expect(command(text) == nil, "\(text) should not parse")
    }

    @Test func seqMatchData() {
        // RFC 7162 §3.2.5.2's example shape: known UIDs, then message numbers and their UIDs.
        let select = command("a SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:15,19 5:19,23)))")
        guard case .select(_, let parameters) = select, let q = parameters.qresync else {
            Issue.record("SELECT QRESYNC with seq-match-data does not parse")
            return
        }
        #expect(q.uidValidity == 67890007 && q.modSeq == 90060115194045000)
        #expect(q.knownUIDs == SequenceSet([41...211, 214...541]))
        #expect(q.knownSequences == SequenceSet([1...15, 19...19]))
        #expect(q.knownSequenceUIDs == SequenceSet([5...19, 23...23]))
        // seq-match-data without known-uids.
        guard case .select(_, let p2) = command("a SELECT INBOX (QRESYNC (1 2 (1,2 10,20)))") else {
            Issue.record("seq-match-data alone does not parse")
            return
        }
        #expect(p2.qresync?.knownUIDs == nil && p2.qresync?.knownSequences == SequenceSet([1...1, 2...2]))
    }
}
