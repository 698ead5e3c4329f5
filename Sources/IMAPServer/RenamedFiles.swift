import MaildirCore
import Synchronization

/// Where a message file went when its flags changed, for the sessions that still hold its
/// old name (a STORE of another session renames the file; this session's list is not
/// refreshed until its next NOOP or UID FETCH). Without it each such session listed the whole
/// of `cur/` to find the file again: about a millisecond of reading per message of a
/// 10,000-message folder, on every STORE or FETCH of a message another session had flagged.
///
/// The renames this process made are remembered by folder and base name (bounded: past
/// `limit` entries the table starts again); a rename by another program is found by trying
/// the standard flag letters, and only then by listing `cur/`.
final class RenamedFiles: Sendable {
    static let shared = RenamedFiles()
    static let limit = 20_000
    private let names = Mutex<[String: String]>([:])

    /// Remembers that the message `baseName` of the folder at `directory` is now `name`.
    func note(directory: String, baseName: String, name: String) {
        let key = directory + "/" + baseName
        names.withLock { table in
            if table.count >= Self.limit { table.removeAll() }
            table[key] = name
        }
    }

    func lookup(directory: String, baseName: String) -> String? {
        let key = directory + "/" + baseName
        return names.withLock { $0[key] }
    }

    /// The file of `baseName` in `directory/cur`, wherever its flags took it; nil when it is
    /// gone (expunged).
    static func find(baseName: String, in directory: String) -> MessageFileName? {
        let cur = directory + "/cur/"
        if let known = shared.lookup(directory: directory, baseName: baseName), SystemCall.status(cur + known) != nil {
            return MessageFileName(known)
        }
        // Maildir++ names with the standard flags, letters in ASCII order (D F P R S T).
        let letters: [Character] = ["D", "F", "P", "R", "S", "T"]
        for mask in 0..<(1 << letters.count) {
            var name = baseName + ":2,"
            for (bit, letter) in letters.enumerated() where mask & (1 << bit) != 0 { name.append(letter) }
            if SystemCall.status(cur + name) != nil { return MessageFileName(name) }
        }
        for name in SystemCall.names(in: directory + "/cur") where MessageFileName.baseName(of: name) == baseName {
            return MessageFileName(name)
        }
        return nil
    }
}
