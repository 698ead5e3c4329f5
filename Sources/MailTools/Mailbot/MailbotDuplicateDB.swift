import MaildirCore
import ToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// mailbot's `-d` duplicate-suppression database: `FILE.dat`, one `address<TAB>time` line
/// per sender (a plain text format of this implementation; Courier uses GDBM), guarded by
/// an exclusive lock on `FILE.lock` (spec/tools.md §2.1, §2.2 (7)).
enum MailbotDuplicateDB {
    /// Parses the database text into address → last reply time.
    static func parse(_ text: [UInt8]) -> [[UInt8]: Int] {
        var map: [[UInt8]: Int] = [:]
        for line in text.split(separator: 10) {
            guard let tab = line.lastIndex(of: 9) else { continue }
            let key = Array(line[line.startIndex..<tab])
            guard let t = Int(String(decoding: line[(tab + 1)...], as: UTF8.self)) else { continue }
            map[key] = t
        }
        return map
    }

    static func serialize(_ map: [[UInt8]: Int]) -> [UInt8] {
        var out: [UInt8] = []
        for key in map.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            // Keys never hold a newline: the address parser removes line breaks.
            out.append(contentsOf: key.filter { $0 != 10 })
            out.append(9)
            out.append(contentsOf: String(map[key] ?? 0).utf8)
            out.append(10)
        }
        return out
    }

    /// Whether `sender` got a reply within `days` days of `now`; if not, records `now`
    /// for it (before the reply is built, as Courier does). nil: the database failed.
    static func shouldReply(path: [UInt8], sender: [UInt8], days: Int, now: Int) -> Bool? {
        let base = String(decoding: path, as: UTF8.self)
        let lockFD = open(base + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard lockFD >= 0 else { return nil }
        defer { close(lockFD) }
        guard FileLock.lockExclusive(lockFD) else { return nil }
        let dataPath = base + ".dat"
        var map = ByteInput.readFile(dataPath).map(parse) ?? [:]
        if let last = map[sender], now - last < days * 86_400, now >= last {
            return false
        }
        map[sender] = now
        // Durable: the reply is sent only once the record of it is on disk.
        do throws(MaildirError) {
            try SystemCall.replaceFileDurably(dataPath, bytes: serialize(map), mode: 0o644)
        } catch {
            return nil
        }
        return true
    }
}
