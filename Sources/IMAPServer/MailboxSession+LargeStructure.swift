import IMAP
import Synchronization

/// BODY and BODYSTRUCTURE of messages larger than `streamedBodyThreshold`: describing one
/// needs a MIME scan of the whole file, so the formatted answer is kept, process-wide, by
/// folder and base name (a message's bytes never change under its base name, so an entry
/// never goes stale). A client asking again — the next FETCH 1:* BODYSTRUCTURE, another
/// session, another client of the same user — gets it without the file being opened.
extension MailboxSession {
    /// The BODY (`extended` false) or BODYSTRUCTURE item's value for the large message at
    /// `index`, as `w` writes it; nil for a small message (the caller takes the held path).
    func largeStructureBytes(at index: Int, extended: Bool, utf8: Bool) -> [UInt8]? {
        guard let s = selected, index < s.messages.count else { return nil }
        let key = LargeStructureCache.Key(folder: s.directory, baseName: s.messages[index].fileName.baseName,
                                          extended: extended, utf8: utf8)
        if let known = LargeStructureCache.shared.get(key) { return known }
        guard let large = largeMessage(at: index) else { return nil }
        var w = ResponseWriter(capacity: 1024)
        w.utf8Allowed = utf8
        w.bodyStructure(large.message.bodyStructure(large.fd), extended: extended)
        LargeStructureCache.shared.put(key, w.bytes)
        return w.bytes
    }
}

/// Formatted BODY/BODYSTRUCTURE values of large messages (see `largeStructureBytes`).
/// Bounded by bytes: past `byteLimit` it starts again.
final class LargeStructureCache: Sendable {
    struct Key: Hashable {
        var folder: String
        var baseName: String
        var extended: Bool
        var utf8: Bool
    }

    static let shared = LargeStructureCache()
    /// A structure is at most a few hundred entities (MailCore's limit), a few KiB to tens of KiB.
    static let byteLimit = 16 << 20
    private let entries = Mutex<(table: [Key: [UInt8]], bytes: Int)>(([:], 0))

    func get(_ key: Key) -> [UInt8]? { entries.withLock { $0.table[key] } }

    func put(_ key: Key, _ value: [UInt8]) {
        guard value.count <= Self.byteLimit / 4 else { return }
        entries.withLock { e in
            if e.bytes + value.count > Self.byteLimit { e = ([:], 0) }
            if let old = e.table.updateValue(value, forKey: key) { e.bytes -= old.count }
            e.bytes += value.count
        }
    }
}
