import IMAP
import Maildir
import MaildirCore

/// CONDSTORE and QRESYNC (RFC 7162) on the folder's mod-sequence log (`FolderModSeqs`,
/// `courierswiftmodseq`): HIGHESTMODSEQ at SELECT, MODSEQ in FETCH, CHANGEDSINCE,
/// UNCHANGEDSINCE, VANISHED (EARLIER), and VANISHED instead of EXPUNGE.
extension MailboxSession {
    /// A rescan of the selected folder and the mod-sequences the log gives its messages
    /// (aligned with `snapshot.messages`).
    struct ModSeqScan: Sendable {
        var snapshot: FolderSnapshot
        var keywords: [String: [String]]
        var modSeqs: [UInt64]
        var highest: UInt64
    }

    static func fingerprint(_ m: Message) -> UInt64 {
        ModSeqFingerprint.of(fileName: m.fileName.name, keywords: m.keywords)
    }

    /// Courier's uid scan and the keywords, then `reconcile`, all under the folder's modseq
    /// lock: a change another program made (it knows nothing of mod-sequences) gets a new
    /// mod-sequence the first time any session sees it, and a scan older than the log's last
    /// entries can never be reconciled after them.
    func scanWithModSeqs(_ s: Selected) -> ModSeqScan? {
        let dir = s.directory, trash = maildir.trashFolderName, keywordsOn = options.keywords, readOnly = s.readOnly
        return FolderModSeqs.shared(folderPath: dir).transaction { t -> ModSeqScan? in
            guard let snapshot = try? FolderScanner(folderPath: dir, trashFolderName: trash).scan(readOnly: readOnly) else {
                return nil
            }
            let keywords = keywordsOn ? (try? KeywordStore(folderPath: dir).load())?.messages ?? [:] : [:]
            var uids: [UInt32] = [], fingerprints: [UInt64] = []
            uids.reserveCapacity(snapshot.messages.count)
            fingerprints.reserveCapacity(snapshot.messages.count)
            for m in snapshot.messages {
                uids.append(m.uid)
                fingerprints.append(ModSeqFingerprint.of(fileName: m.fileName.name, keywords: keywords[m.fileName.baseName] ?? []))
            }
            let modSeqs = t.reconcile(uidValidity: snapshot.uidValidity, uids: uids, fingerprints: fingerprints)
            return ModSeqScan(snapshot: snapshot, keywords: keywords, modSeqs: modSeqs, highest: t.highest)
        }
    }

    // MARK: enabling (RFC 7162 §3.1)

    /// Whether a command turns CONDSTORE on (§3.1: SELECT/EXAMINE with CONDSTORE, STATUS
    /// HIGHESTMODSEQ, FETCH MODSEQ or CHANGEDSINCE, SEARCH MODSEQ, STORE UNCHANGEDSINCE).
    static func enablesCondStore(_ command: Command) -> Bool {
        switch command {
        case .fetch(_, let attributes, let modifiers, _):
            return attributes.contains(.modSeq) || modifiers.changedSince != nil
        case .store(_, let unchangedSince, _, _): return unchangedSince != nil
        case .search(let command, _): return command.key.mentionsModSeq
        case .status(_, let items): return items.contains(.highestModSeq)
        default: return false
        }
    }

    /// The first CONDSTORE enabling command while a mailbox is selected reports the folder's
    /// HIGHESTMODSEQ (§3.1) before its own answers.
    func enableCondStore(into w: inout ResponseWriter) {
        guard !condStore else { return }
        condStore = true
        if let s = selected { w.untaggedStatus(.ok, .highestModSeq(s.highestModSeq), "Highest") }
    }

    // MARK: SELECT / EXAMINE (§3.1.2, §3.2.5)

    /// HIGHESTMODSEQ for a CONDSTORE session, then for `QRESYNC (...)` with the right
    /// UIDVALIDITY: VANISHED (EARLIER) for the known UIDs expunged since the client's
    /// mod-sequence, and FETCH (UID FLAGS MODSEQ) for every message changed since.
    func writeSelectModSeqs(_ parameters: SelectParameters, into w: inout ResponseWriter) {
        if parameters.condstore { condStore = true }
        guard condStore, let s = selected else { return }
        w.untaggedStatus(.ok, .highestModSeq(s.highestModSeq), "Highest")
        guard let q = parameters.qresync, q.uidValidity == s.uidValidity else { return }
        writeVanishedEarlier(since: q.modSeq, within: q.knownUIDs, above: Self.seqMatchFloor(q, s.messages), into: &w)
        for (index, m) in s.messages.enumerated() where m.modSeq > q.modSeq {
            writeFlagsFetch(index, m, into: &w, forceUID: true)
        }
    }

    // MARK: untagged answers

    /// `* n FETCH (FLAGS …)` for a flag change; with CONDSTORE also UID and MODSEQ (§3.1.4:
    /// every untagged FETCH then carries them).
    func writeFlagsFetch(_ index: Int, _ m: Message, into w: inout ResponseWriter, forceUID: Bool = false,
                         uidRequested: Bool = false, flags: Bool = true) {
        w.append("* \(index + 1) FETCH (")
        var parts = 0
        if condStore || forceUID || uidRequested {
            w.append("UID \(m.uid)")
            parts += 1
        }
        if flags {
            w.append(parts > 0 ? " FLAGS " : "FLAGS ")
            w.flagList(Self.flags(of: m))
            parts += 1
        }
        if condStore { w.append(parts > 0 ? " MODSEQ (\(m.modSeq))" : "MODSEQ (\(m.modSeq))") }
        w.append(")\r\n")
    }

    /// `* VANISHED [(EARLIER)] uids` (§3.2.10); nothing for an empty list.
    func writeVanished(_ uids: [UInt32], earlier: Bool, into w: inout ResponseWriter) {
        guard qresync || earlier, !uids.isEmpty else { return }
        w.append(earlier ? "* VANISHED (EARLIER) " : "* VANISHED ")
        w.append(bytes: SequenceSet.format(uids.sorted()))
        w.append("\r\n")
    }

    /// VANISHED (EARLIER) for the UIDs (within `known`, else all) expunged after `modSeq`.
    /// When the log no longer lists expunges that old, every UID below UIDNEXT that is not in
    /// the folder is reported (RFC 7162 §3.2.10 lets a server name UIDs the client never saw).
    /// `above`: UIDs up to it are known not to have vanished (seq-match-data, §3.2.5.2).
    func writeVanishedEarlier(since modSeq: UInt64, within known: SequenceSet?, above floor: UInt32 = 0,
                              into w: inout ResponseWriter) {
        guard let s = selected else { return }
        let listed = FolderModSeqs.shared(folderPath: s.directory).transaction { t in t.expunged(since: modSeq) }
        let largest = max(s.nextUID, 1) - 1
        let present = Set(s.messages.map(\.uid))
        var ranges: [ClosedRange<UInt32>]
        if let listed {
            ranges = Self.ranges(listed.filter { !present.contains($0) })
        } else {
            ranges = Self.gaps(in: s.messages.map(\.uid), below: s.nextUID)
        }
        if let known, !known.isSavedResult {
            ranges = Self.intersect(ranges, known.merged(largest: largest))
        }
        if floor > 0 {
            ranges = floor == UInt32.max ? [] : Self.intersect(ranges, [(floor + 1)...UInt32.max])
        }
        guard !ranges.isEmpty else { return }
        w.append("* VANISHED (EARLIER) ")
        w.append(ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            .joined(separator: ","))
        w.append("\r\n")
    }

    /// Ascending UIDs as ranges.
    static func ranges(_ uids: [UInt32]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for u in uids.sorted() {
            if let last = out.last, last.upperBound &+ 1 == u {
                out[out.count - 1] = last.lowerBound...u
            } else if out.last?.contains(u) != true {
                out.append(u...u)
            }
        }
        return out
    }

    /// The UIDs from 1 to `uidNext - 1` that are not in `uids` (ascending), as ranges.
    static func gaps(in uids: [UInt32], below uidNext: UInt32) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 1
        for u in uids where u >= next {
            if u > next { out.append(next...(u - 1)) }
            next = u &+ 1
            if next == 0 { return out }
        }
        if uidNext > next { out.append(next...(uidNext - 1)) }
        return out
    }

    /// Both lists sorted and disjoint.
    static func intersect(_ a: [ClosedRange<UInt32>], _ b: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let low = max(a[i].lowerBound, b[j].lowerBound), high = min(a[i].upperBound, b[j].upperBound)
            if low <= high { out.append(low...high) }
            if a[i].upperBound < b[j].upperBound { i += 1 } else { j += 1 }
        }
        return out
    }

    // MARK: own changes

    /// Records flag/keyword changes this session made (new fingerprints of these messages)
    /// under one new mod-sequence, inside an open transaction; updates the messages' MODSEQ
    /// and, when nothing else happened in between, the session's HIGHESTMODSEQ.
    func recordOwnChanges(_ indices: [Int], in t: inout ModSeqTransaction) {
        // In place through `selected` (a local copy would make each write copy the array).
        guard !indices.isEmpty, let count = selected?.messages.count, let before = selected?.highestModSeq else { return }
        let caughtUp = t.highest == before
        var changes: [(uid: UInt32, fingerprint: UInt64)] = []
        for i in indices where i < count {
            if let m = selected?.messages[i] { changes.append((uid: m.uid, fingerprint: Self.fingerprint(m))) }
        }
        let modSeq = t.record(changed: changes)
        for i in indices where i < count { selected?.messages[i].modSeq = modSeq }
        if caughtUp { selected?.highestModSeq = modSeq }
    }

    /// Records messages this session expunged (RFC 7162 §3.2.10: an expunge is a change).
    func recordOwnExpunges(_ uids: [UInt32]) {
        guard let s = selected, !uids.isEmpty else { return }
        // An expunged large message's file is not kept open (its disk space is freed now).
        if let open = largeMessageCache, uids.contains(open.uid) { largeMessageCache = nil }
        let before = s.highestModSeq
        let (modSeq, caughtUp) = FolderModSeqs.shared(folderPath: s.directory).transaction { t -> (UInt64, Bool) in
            let caughtUp = t.highest == before
            return (t.record(changed: [], expunged: uids), caughtUp)
        }
        if caughtUp { selected?.highestModSeq = modSeq }
    }

    /// FETCH's implicit `\Seen` (RFC 3501 §6.4.5) for these messages, as one change under the
    /// modseq lock; returns the indices whose flags changed.
    func markSeen(_ indices: [Int]) -> Set<Int> {
        guard let directory = selected?.directory, !indices.isEmpty else { return [] }
        var changed: [Int] = []
        FolderModSeqs.shared(folderPath: directory).transaction { t in
            for index in indices {
                // In place through `selected` (a local copy would make each write copy the array).
                guard let count = selected?.messages.count, index < count,
                      let m = selected?.messages[index], !m.isSeen else { continue }
                let flags = (m.letters ?? MessageFlags()).inserting(UInt8(ascii: "S"))
                if let renamed = try? maildir.setFlags(folder: selected?.folder, fileName: m.fileName, flags: flags) {
                    RenamedFiles.shared.note(directory: directory, baseName: renamed.baseName, name: renamed.name)
                    selected?.messages[index].fileName = renamed
                    changed.append(index)
                }
            }
            recordOwnChanges(changed, in: &t)
        }
        return Set(changed)
    }

    // MARK: STATUS (§3.1.6? HIGHESTMODSEQ item, RFC 7162 §3.1.7)

    /// The folder's HIGHESTMODSEQ after reconciling it with a (read-only) scan.
    func highestModSeq(of dir: String) -> UInt64 {
        let trash = maildir.trashFolderName, keywordsOn = options.keywords
        return FolderModSeqs.shared(folderPath: dir).transaction { t -> UInt64 in
            guard let snapshot = try? FolderScanner(folderPath: dir, trashFolderName: trash).scan(readOnly: true) else {
                return t.highest
            }
            let keywords = keywordsOn ? (try? KeywordStore(folderPath: dir).load())?.messages ?? [:] : [:]
            _ = t.reconcile(uidValidity: snapshot.uidValidity, uids: snapshot.messages.map(\.uid),
                            fingerprints: snapshot.messages.map {
                                ModSeqFingerprint.of(fileName: $0.fileName.name, keywords: keywords[$0.fileName.baseName] ?? [])
                            })
            return t.highest
        }
    }
}

extension SearchKey {
    /// Whether the key uses MODSEQ anywhere (a CONDSTORE enabling SEARCH, RFC 7162 §3.1.5).
    var mentionsModSeq: Bool {
        switch self {
        case .modSeq: return true
        case .not(let k): return k.mentionsModSeq
        case .or(let a, let b): return a.mentionsModSeq || b.mentionsModSeq
        case .and(let keys): return keys.contains { $0.mentionsModSeq }
        default: return false
        }
    }
}
