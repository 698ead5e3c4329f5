#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Courier's move of `new/` into `cur/` when a mailbox is opened (maildir/maildirgetnew.c),
/// shared by the IMAP folder scan and the POP3 login.
public enum NewToCur {
    /// How many renames are done per hold of the quota lock.
    public static let renamesPerLock = 1000

    /// The name a file of `new/` gets in `cur/`: an info part that already says `:2,…` is kept;
    /// any other one (or none) is replaced by `:2,`.
    public static func curName(forNew name: String) -> String {
        let bytes = Array(name.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return name + ":2," }
        if bytes[(colon + 1)...].starts(with: [UInt8(ascii: "2"), UInt8(ascii: ",")]) { return name }
        return String(decoding: bytes[..<colon], as: UTF8.self) + ":2,"
    }

    /// Moves every file of `new/` (dot files aside) into `cur/` and returns the names they got
    /// there. `new/` is listed once; a file gone by the time it is renamed (another process
    /// moved it) is skipped, and anything delivered after the listing waits for the next call.
    /// The renames run under the quota lock, in chunks of ``renamesPerLock`` so deliveries are
    /// not held up for long: a rebuild of `maildirsize` must not see a message in both
    /// directories or in neither.
    public static func move(folderPath: String, quota: MaildirQuota) throws(MaildirError) -> [String] {
        let names = SystemCall.names(in: folderPath + "/new").filter { $0.utf8.first != UInt8(ascii: ".") }
        var moved: [String] = []
        moved.reserveCapacity(names.count)
        var start = 0
        while start < names.count {
            let chunk = names[start..<min(start + renamesPerLock, names.count)]
            start = chunk.endIndex
            try quota.withLock { () throws(MaildirError) in
                for name in chunk {
                    let target = curName(forNew: name)
                    if rename(folderPath + "/new/" + name, folderPath + "/cur/" + target) == 0 {
                        moved.append(target)
                    }
                }
            }
        }
        return moved
    }
}
