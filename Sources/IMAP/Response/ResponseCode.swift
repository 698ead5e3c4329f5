/// Response codes in `[...]` (RFC 3501 §7.1, RFC 4315 UIDPLUS, RFC 5530, RFC 7162, RFC 9051 §7.1).
/// Handlers use these, never hand-written code text.
public enum ResponseCode: Sendable, Equatable {
    case alert                                 // RFC 3501 §7.1
    case capability([String])                  // RFC 3501 §7.1
    case parse                                 // RFC 3501 §7.1
    case permanentFlags([Flag], wildcard: Bool) // RFC 3501 §7.1
    case readOnly, readWrite                   // RFC 3501 §7.1
    case tryCreate                             // RFC 3501 §7.1
    case uidNext(UInt32), uidValidity(UInt32), unseen(UInt32) // RFC 3501 §7.1
    case appendUID(uidValidity: UInt32, uids: [UInt32])       // RFC 4315 §3
    case copyUID(uidValidity: UInt32, source: [UInt32], destination: [UInt32]) // RFC 4315 §3
    case uidNotSticky                          // RFC 4315 §3
    case highestModSeq(UInt64), noModSeq       // RFC 7162 §3.1.2.1, §3.1.2.2
    case modified([UInt32])                    // RFC 7162 §3.1.3
    case closed                                // RFC 7162 §3.2.11
    case myRights(String)                      // Courier: `[MYRIGHTS "acdilrsw"]`
    case tooBig                                // RFC 4469 / RFC 7889
    case overQuota                             // RFC 5530 §3
    case nonExistent, alreadyExists            // RFC 5530 §3
    case authenticationFailed, unavailable     // RFC 5530 §3
    case privacyRequired, cannot, serverBug, noPerm, inUse, limit, expungeIssued // RFC 5530 §3
    case clientBug                             // RFC 5530 §3
    case useAttr                               // RFC 6154 §6
    case unknownCTE                            // RFC 3516 §4.4, RFC 9051 §7.1
    case hasChildren                           // RFC 9051 §7.1
    case badCharset([String])                  // RFC 3501 §7.1

    func write(into w: inout ResponseWriter) {
        switch self {
        case .alert: w.append("ALERT")
        case .capability(let list): w.append("CAPABILITY " + list.joined(separator: " "))
        case .parse: w.append("PARSE")
        case .permanentFlags(let flags, let wildcard):
            w.append("PERMANENTFLAGS (")
            var items = flags.map(\.name)
            if wildcard { items.append("\\*") }
            w.append(items.joined(separator: " "))
            w.append(")")
        case .readOnly: w.append("READ-ONLY")
        case .readWrite: w.append("READ-WRITE")
        case .tryCreate: w.append("TRYCREATE")
        case .uidNext(let n): w.append("UIDNEXT \(n)")
        case .uidValidity(let n): w.append("UIDVALIDITY \(n)")
        case .unseen(let n): w.append("UNSEEN \(n)")
        case .appendUID(let validity, let uids):
            w.append("APPENDUID \(validity) ")
            w.append(bytes: SequenceSet.format(uids))
        case .copyUID(let validity, let source, let destination):
            w.append("COPYUID \(validity) ")
            w.append(bytes: Self.orderedSet(source))
            w.space()
            w.append(bytes: Self.orderedSet(destination))
        case .uidNotSticky: w.append("UIDNOTSTICKY")
        case .highestModSeq(let n): w.append("HIGHESTMODSEQ \(n)")
        case .noModSeq: w.append("NOMODSEQ")
        case .modified(let uids):
            w.append("MODIFIED ")
            w.append(bytes: SequenceSet.format(uids))
        case .closed: w.append("CLOSED")
        case .unknownCTE: w.append("UNKNOWN-CTE")
        case .hasChildren: w.append("HASCHILDREN")
        case .myRights(let rights):
            w.append("MYRIGHTS ")
            w.string(rights)
        case .tooBig: w.append("TOOBIG")
        case .overQuota: w.append("OVERQUOTA")
        case .nonExistent: w.append("NONEXISTENT")
        case .alreadyExists: w.append("ALREADYEXISTS")
        case .authenticationFailed: w.append("AUTHENTICATIONFAILED")
        case .unavailable: w.append("UNAVAILABLE")
        case .privacyRequired: w.append("PRIVACYREQUIRED")
        case .cannot: w.append("CANNOT")
        case .serverBug: w.append("SERVERBUG")
        case .noPerm: w.append("NOPERM")
        case .inUse: w.append("INUSE")
        case .limit: w.append("LIMIT")
        case .expungeIssued: w.append("EXPUNGEISSUED")
        case .clientBug: w.append("CLIENTBUG")
        case .useAttr: w.append("USEATTR")
        case .badCharset(let list): w.append("BADCHARSET (" + list.joined(separator: " ") + ")")
        }
    }

    /// COPYUID sets pair up element by element, so they keep the client's order (RFC 4315 §3):
    /// only runs that ascend by one collapse into ranges.
    static func orderedSet(_ uids: [UInt32]) -> [UInt8] {
        var parts: [String] = []
        var index = 0
        while index < uids.count {
            var end = index
            while end + 1 < uids.count && uids[end + 1] == uids[end] &+ 1 { end += 1 }
            parts.append(end == index ? "\(uids[index])" : "\(uids[index]):\(uids[end])")
            index = end + 1
        }
        return Array(parts.joined(separator: ",").utf8)
    }
}
