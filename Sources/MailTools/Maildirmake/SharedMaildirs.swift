#if canImport(Glibc)
import Glibc
#endif
import MaildirCore
import ToolSupport

/// `maildirmake --add name=path` / `--del name`: the `shared-maildirs` file of a maildir, lines
/// `name<TAB>path` naming sharable maildirs (access.md §1.7 (B)). The system-wide list is
/// `/etc/maildirshared` (the maildrop package's location).
enum SharedMaildirs {
    static let systemFile = "/etc/maildirshared"
    static let fileName = "shared-maildirs"

    /// Courier's line syntax: `#` starts a comment; the name and the path are the first two
    /// white-space separated words; anything else is no entry.
    static func parseLine(_ line: Substring) -> (name: String, path: String)? {
        var text = line
        if let hash = text.firstIndex(of: "#") { text = text[..<hash] }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        guard words.count >= 2 else { return nil }
        return (String(words[0]), String(words[1]))
    }

    static func lines(of bytes: [UInt8]) -> [Substring] {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") || text.isEmpty ? 1 : 0)
    }

    static func perror(_ what: String, _ code: Int32 = errno) {
        printError("\(what): \(SystemCall.errorText(code))\n")
    }

    static func add(maildir: String, definition: String) -> Int32 {
        guard let equals = definition.firstIndex(of: "=") else { return Maildirmake.usage() }
        let name = String(definition[..<equals])
        let path = String(definition[definition.index(after: equals)...])
        guard path.hasPrefix("/") else { return Maildirmake.usage() }
        if access(path, R_OK) != 0 {
            perror(path)
            return 1
        }
        if name.contains(".") || name.contains("/") {
            printError("\(name): invalid name\n")
            return 1
        }
        if chdir(maildir) != 0 {
            perror(maildir)
            return 1
        }
        if let system = try? SystemCall.readFile(systemFile, limit: 1 << 20) {
            for line in lines(of: system) where parseLine(line)?.name == name {
                printError("\(name): already defined as a sharable maildir in \(systemFile).\n")
                return 2
            }
        }
        let fd = Glibc.open(fileName, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 {
            perror(maildir)
            return 1
        }
        defer { close(fd) }
        let existing = (try? SystemCall.readAll(fd, path: fileName, limit: 1 << 24)) ?? []
        for line in lines(of: existing) where parseLine(line)?.name == name {
            printError("\(name): already defined as a sharable maildir.\n")
            return 2
        }
        do {
            try SystemCall.writeAll(fd, Array("\(name)\t\(path)\n".utf8), path: fileName)
        } catch {
            perror(maildir, error.errnoValue ?? EIO)
            return 1
        }
        return 0
    }

    static func delete(maildir: String, name: String) -> Int32 {
        if chdir(maildir) != 0 {
            perror(maildir)
            return 1
        }
        guard let existing = try? SystemCall.readFile(fileName, limit: 1 << 24) else {
            perror(maildir, ENOENT)
            return 1
        }
        var found = false
        var kept: [UInt8] = []
        for line in lines(of: existing) {
            if parseLine(line)?.name == name {
                found = true
                continue
            }
            kept.append(contentsOf: line.utf8)
            kept.append(UInt8(ascii: "\n"))
        }
        let t = SystemCall.now()
        let temporary = "tmp/\(t.seconds).M\(t.microseconds)P\(getpid())_shared.\(UniqueName.escapeHost(SystemCall.hostName()))"
        do {
            try SystemCall.replaceFile(fileName, temporaryPath: temporary, bytes: kept, mode: 0o644)
        } catch {
            perror(temporary, error.errnoValue ?? EIO)
            return 1
        }
        if !found {
            printError("\(name): not found.\n")
            return 1
        }
        return 0
    }
}
