import MaildirCore
import ToolSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `gdbmopen`-style database (tools.md §1.10), kept as a text file of `key<TAB>value`
/// lines (our own format; keys and values may not contain tabs or newlines).
final class KeyValueDatabase {
    let path: String
    let writable: Bool
    var entries: [String: String] = [:]

    init?(path: String, mode: String) {
        self.path = path
        let m = mode.uppercased()
        writable = m == "W" || m == "C" || m == "N"
        if m == "N" { return }
        if let bytes = ByteInput.readFile(path) {
            for line in bytes.split(separator: 0x0A) {
                guard let tab = line.firstIndex(of: 0x09) else { continue }
                entries[String(decoding: line[line.startIndex..<tab], as: UTF8.self)] =
                    String(decoding: line[(tab + 1)...], as: UTF8.self)
            }
        } else if m != "C" {
            return nil
        }
    }

    /// Writes the whole database durably (SystemCall.replaceFileDurably: temporary file,
    /// fsync, rename, directory fsync).
    func save() -> Bool {
        var bytes: [UInt8] = []
        for (k, v) in entries.sorted(by: { $0.key < $1.key }) {
            bytes += Array(k.utf8)
            bytes.append(0x09)
            bytes += Array(v.utf8)
            bytes.append(0x0A)
        }
        do throws(MaildirError) {
            try SystemCall.replaceFileDurably(path, bytes: bytes, mode: 0o600)
            return true
        } catch {
            return false
        }
    }
}

extension MaildropInterpreter {
    func gdbm(_ name: String, _ values: [String], _ args: [MaildropExpr], line: Int) throws(MaildropInterruption) -> String {
        func arg(_ i: Int) -> String { i < values.count ? values[i] : "" }
        switch name {
        case "gdbmopen":
            let mode = arg(1).isEmpty ? "R" : arg(1)
            if embedded && mode.uppercased() != "R" { throw .fatal("gdbmopen: read-only in embedded mode.") }
            database = KeyValueDatabase(path: arg(0), mode: mode)
            return database == nil ? "-1" : "0"
        case "gdbmclose":
            database = nil
            return "0"
        case "gdbmstore":
            guard let db = database, db.writable else { return "-1" }
            let key = arg(0).filter { $0 != "\t" && $0 != "\n" }
            db.entries[key] = arg(1).filter { $0 != "\n" }
            return db.save() ? "0" : "-1"
        default:
            let key = arg(0)
            for candidate in Self.fetchCandidates(key, options: arg(1)) {
                if let v = database?.entries[candidate] { return v }
            }
            return args.count > 2 ? try evaluate(args[2], line: line) : ""
        }
    }

    /// Keys tried by `gdbmfetch`: `D` walks user@ and parent domains, `I` shortens IP prefixes.
    static func fetchCandidates(_ key: String, options: String) -> [String] {
        var keys = [key]
        if options.contains("D") {
            if let at = key.firstIndex(of: "@") {
                keys.append(String(key[...at]))
                var domain = String(key[key.index(after: at)...])
                while !domain.isEmpty {
                    keys.append(domain)
                    guard let dot = domain.firstIndex(of: ".") else { break }
                    domain = String(domain[domain.index(after: dot)...])
                }
            } else {
                var domain = key
                while let dot = domain.firstIndex(of: ".") {
                    domain = String(domain[domain.index(after: dot)...])
                    keys.append(domain)
                }
            }
        }
        if options.contains("I") {
            var ip = key
            while let dot = ip.lastIndex(of: ".") {
                ip = String(ip[..<dot])
                keys.append(ip)
            }
        }
        return keys
    }
}
