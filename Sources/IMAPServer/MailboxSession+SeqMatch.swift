import IMAP

/// QRESYNC message sequence match data (RFC 7162 §3.2.5.2): pairs of message numbers and the
/// UIDs the client believes they have. When the message at number n still has UID u, every
/// message the client knew with a UID up to u is still there (UIDs only grow, so the n
/// messages with UIDs up to u now are the n the client knew then): none of those UIDs can have
/// vanished, and VANISHED (EARLIER) needs to name only larger ones. This matters most when the
/// mod-sequence log no longer reaches back to the client's MODSEQ and every gap below UIDNEXT
/// would otherwise be reported.
extension MailboxSession {
    /// The largest UID of the leading pairs that still match (pairs in the order the client
    /// wrote them, ranges counting upwards; the walk stops at the first mismatch, so a client
    /// with a stale or made-up view gets the full answer). 0: nothing is known to match.
    /// Both sets must hold as many numbers as each other; `validSeqMatch` checks that first.
    static func seqMatchFloor(_ q: SelectParameters.QResync, _ messages: [Message]) -> UInt32 {
        guard let sequences = q.knownSequences, let uids = q.knownSequenceUIDs,
              validSeqMatch(q) else { return 0 }
        var floor: UInt32 = 0
        var uidRanges = uids.ranges.makeIterator()
        var uidRange = uidRanges.next()
        var nextUID = uidRange?.lowerBound ?? 0
        for range in sequences.ranges {
            var n = range.lowerBound
            while true {
                guard let current = uidRange else { return floor }
                // A number beyond the mailbox (or a UID out of order) ends the walk: the client's
                // view has lost messages at or before it.
                guard n >= 1, Int(n) <= messages.count, messages[Int(n) - 1].uid == nextUID,
                      nextUID >= floor else { return floor }
                floor = nextUID
                if nextUID == current.upperBound {
                    uidRange = uidRanges.next()
                    nextUID = uidRange?.lowerBound ?? 0
                } else {
                    nextUID += 1
                }
                if n == range.upperBound { break }
                n += 1
            }
        }
        return floor
    }

    /// Whether the two sets of seq-match-data have the same number of elements (counted
    /// without expanding them); a client that sends uneven sets gets BAD.
    static func validSeqMatch(_ q: SelectParameters.QResync) -> Bool {
        guard let sequences = q.knownSequences, let uids = q.knownSequenceUIDs else {
            return q.knownSequences == nil && q.knownSequenceUIDs == nil
        }
        func count(_ set: SequenceSet) -> UInt64 {
            set.ranges.reduce(0) { $0 + UInt64($1.upperBound - $1.lowerBound) + 1 }
        }
        return count(sequences) == count(uids)
    }
}
