#if canImport(Glibc)
import Glibc
#endif

/// One instruction of a `.courier` file (spec/mta.md §5.2.4).
public enum DeliveryInstruction: Sendable, Equatable {
    /// `./Maildir/`, `/var/mail/x`: a Maildir (directory) or mbox (file); relative to home.
    case mailbox(String)
    /// `| command`: run through `/bin/sh -c` with the message on stdin.
    case program(String)
    /// `|| command`: dynamic instructions (its output is more instructions).
    case dynamic(String)
    /// `addr, addr` (or `!addr`, `&addr`): forward.
    case forward([String])
}

/// The `.courier` file parser: pure, bytes in, instructions out.
public enum DotCourierParser {
    /// Parses a whole file. A line ending in `\` continues on the next line (programs and forwards).
    public static func parse(_ bytes: [UInt8]) -> [DeliveryInstruction] {
        var instructions: [DeliveryInstruction] = []
        var pending = ""
        for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = String(decoding: rawLine, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if !pending.isEmpty {
                line = pending + line
                pending = ""
            }
            if line.hasSuffix("\\") && !line.hasPrefix("#") && !line.hasPrefix(".") && !line.hasPrefix("/") {
                pending = String(line.dropLast()) + " "
                continue
            }
            if let instruction = parseLine(line) { instructions.append(instruction) }
        }
        if !pending.isEmpty, let instruction = parseLine(pending) { instructions.append(instruction) }
        return instructions
    }

    static func parseLine(_ line: String) -> DeliveryInstruction? {
        let trimmedLeading = line.drop { $0 == " " || $0 == "\t" }
        guard let first = line.first, !trimmedLeading.isEmpty, first != "#" else { return nil }
        switch first {
        case ".", "/":
            var path = line
            while path.hasSuffix(" ") || path.hasSuffix("\t") { path.removeLast() }
            if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            return .mailbox(path)
        case "|":
            let rest = line.dropFirst()
            if rest.first == "|" { return .dynamic(String(rest.dropFirst().drop { $0 == " " || $0 == "\t" })) }
            return .program(String(rest.drop { $0 == " " || $0 == "\t" }))
        default:
            var rest = Substring(line)
            if first == "!" || first == "&" { rest = rest.dropFirst() }
            let addresses = rest.split(separator: ",").map { part -> String in
                var text = part.trimmingCharacters
                if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
                return text
            }.filter { !$0.isEmpty }
            return addresses.isEmpty ? nil : .forward(addresses)
        }
    }
}

extension Substring {
    var trimmingCharacters: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// Finding the `.courier` file for an extension (spec/mta.md §5.2.3).
public enum DotCourierFile {
    /// The file used and the `DEFAULT` part, or nil when none exists (for an empty extension:
    /// `.courier`, whose absence means default delivery — returned as a path that may not exist).
    public static func find(home: String, extension ext: String) -> (path: String, defaultPart: String)? {
        // The extension comes from a recipient address (the network): it names a file in the
        // home directory and nothing else. A `/` or a control character never names one.
        if ext.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 < 0x20 || $0 == 0x7F }) { return nil }
        let ext = String(ext.lowercased().map { $0 == "." ? ":" : $0 })
        if ext.isEmpty { return (home + "/.courier", "") }
        let parts = ext.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let exact = home + "/.courier-" + ext
        if exists(exact) { return (exact, "") }
        var count = parts.count - 1
        while count >= 0 {
            let prefix = parts[0..<count].joined(separator: "-")
            let path = home + "/.courier-" + (prefix.isEmpty ? "" : prefix + "-") + "default"
            if exists(path) { return (path, parts[count...].joined(separator: "-")) }
            count -= 1
        }
        return nil
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
