import IMAP
import Synchronization

/// BODY and BODYSTRUCTURE of messages larger than `streamedBodyThreshold`: describing one
/// needs a MIME scan of the whole file, so the formatted answer is kept, process-wide, by
/// folder, base name and size (a message's bytes never change under its base name, so an
/// entry never goes stale; should a file be replaced under its name anyway, the size the store
/// measured for it keys another entry). A client asking again — the next FETCH 1:* BODYSTRUCTURE, another
/// session, another client of the same user — gets it without the file being opened.
extension MailboxSession {
    /// The BODY (`extended` false) or BODYSTRUCTURE item's value for the large message at
    /// `index`, as `w` writes it; nil for a small message (the caller takes the held path).
    func largeStructureBytes(at index: Int, extended: Bool, utf8: Bool) -> [UInt8]? {
        guard let s = selected, index < s.messages.count else { return nil }
        let key = LargeStructureCache.Key(folder: s.directory, baseName: s.messages[index].fileName.baseName,
                                          size: s.messages[index].size, extended: extended, utf8: utf8)
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
/// Bounded by bytes (values, keys and a per-entry overhead): past `byteLimit` it starts again.
final class LargeStructureCache: Sendable {
    struct Key: Hashable {
        var folder: String
        var baseName: String
        var size: Int64
        var extended: Bool
        var utf8: Bool

        /// What the entry costs besides its value: the key's strings and the table's slot.
        var cost: Int { folder.utf8.count + baseName.utf8.count + 64 }
    }

    static let shared = LargeStructureCache()
    /// A structure is at most a few hundred entities (MailCore's limit), a few KiB to tens of KiB.
    static let byteLimit = 16 << 20
    private let entries = Mutex<(table: [Key: [UInt8]], bytes: Int)>(([:], 0))

    func get(_ key: Key) -> [UInt8]? { entries.withLock { $0.table[key] } }

    func put(_ key: Key, _ value: [UInt8]) {
        guard value.count <= Self.byteLimit / 4 else { return }
        let cost = value.count + key.cost
        entries.withLock { e in
            if e.bytes + cost > Self.byteLimit { e = ([:], 0) }
            if let old = e.table.updateValue(value, forKey: key) { e.bytes -= old.count + key.cost }
            e.bytes += cost
        }
    }

    /// The bytes accounted now (values and keys), at most `byteLimit`.
    var accountedBytes: Int { entries.withLock { $0.bytes } }
}
