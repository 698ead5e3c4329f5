#if canImport(Glibc)
import Glibc
#endif

/// `userdb` (spec/access.md §4.4): edits the userdb text source, with Courier's syntax:
/// ```
/// userdb [path/.../ | -f file ]name set field=value field...
/// userdb [path/.../ | -f file ]name unset field...
/// userdb [path/.../ | -f file ]name del
/// userdb -show [path/... | -f file ] [name]
/// ```
/// The source is `$COURIER_ROOT/etc/userdb`; `path/name` edits the file `path` inside it
/// (when it is a directory). A field given without `=value` is read from standard input
/// (prompted as `name.field: ` on a terminal). Changes are written to `.tmp.FILE` and renamed
/// into place under `.lock.FILE`; run makeuserdb afterwards.
public enum UserdbCommand {
    static func usage(_ program: String, io: ToolIO) -> Int32 {
        io.print("Usage: \(program) [path/.../ | -f file ]name set field=value field=value...")
        io.print("       \(program) [path/.../ | -f file ]name unset field field...")
        io.print("       \(program) [path/.../ | -f file ]name del")
        io.print("       \(program) -show [path/... | -f file ] [name]")
        return 1
    }

    public static func run(_ arguments: [String], io: ToolIO) -> Int32 {
        let program = arguments.first ?? "userdb"
        var rest = Array(arguments.dropFirst())[...]
        var file = io.root.etc("userdb")
        var show = false
        var name = rest.popFirst()
        if name == "-show" {
            show = true
            name = rest.popFirst()
        }
        if name == "-f" {
            guard let given = rest.popFirst() else { return usage(program, io: io) }
            file = given
            name = rest.popFirst()
        } else if let given = name, let slash = given.lastIndex(of: "/") {
            file += "/" + given[..<slash]
            name = String(given[given.index(after: slash)...])
        }
        if show { return showRecords(file: file, name: name, io: io) }
        guard let name, !name.isEmpty, let verb = rest.popFirst(), !verb.isEmpty else { return usage(program, io: io) }
        let items = Array(rest)
        if items.contains(where: { $0.contains("|") || $0.contains("\n") }) {
            io.printError("Invalid field or value.")
            return 1
        }
        switch verb {
        case "set":
            var assignments: [(String, String)] = []
            for item in items {
                if let equals = item.firstIndex(of: "=") {
                    assignments.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
                    continue
                }
                if io.standardInputIsTerminal { io.write(Array("\(name).\(item): ".utf8), fd: 1) }
                guard let line = io.readLine() else { return 1 }
                let value = String(decoding: line, as: UTF8.self)
                guard !value.contains("|") else {
                    io.printError("Invalid value.")
                    return 1
                }
                assignments.append((item, value))
            }
            return edit(file: file, io: io) { UserdbTextEditor.set(name: name, assignments, in: $0) }
        case "unset":
            guard !items.isEmpty else { return 0 }
            return edit(file: file, io: io) { UserdbTextEditor.unset(name: name, fields: items, in: $0) }
        case "del":
            guard items.isEmpty else { return usage(program, io: io) }
            return edit(file: file, io: io) { UserdbTextEditor.delete(name: name, in: $0) }
        default:
            return usage(program, io: io)
        }
    }

    private static func showRecords(file: String, name: String?, io: ToolIO) -> Int32 {
        let bytes: [UInt8]
        do {
            guard let found = try AuthFiles.read(file, limit: Int.max) else { return 0 }
            bytes = found
        } catch {
            io.printError("\(error)")
            return 1
        }
        for line in UserdbTextEditor.lines(bytes) {
            guard let (recordName, fields) = UserdbTextEditor.split(line) else { continue }
            if let name {
                if recordName.elementsEqual(name.utf8) {
                    let text = String(decoding: fields, as: UTF8.self)
                    io.print(text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\n"))
                    break
                }
            } else {
                io.print(String(decoding: recordName, as: UTF8.self))
            }
        }
        return 0
    }

    /// Reads `file`, applies `change`, and when it changed something writes the result through
    /// `.tmp.FILE` under `.lock.FILE`, keeping the file's mode (0600 for a new file).
    private static func edit(file: String, io: ToolIO, _ change: ([UInt8]) -> [UInt8]?) -> Int32 {
        let directory: String
        let base: String
        if let slash = file.lastIndex(of: "/") {
            directory = String(file[..<slash]) + "/"
            base = String(file[file.index(after: slash)...])
        } else {
            directory = ""
            base = file
        }
        do {
            let lock = try AuthFiles.Lock(directory + ".lock." + base)
            if AuthFiles.isDirectory(file) {
                io.printError("\(file): not a file.")
                return 1
            }
            let old = try AuthFiles.read(file, limit: Int.max) ?? []
            guard let new = change(old) else { return 0 }
            let mode = AuthFiles.mode(file).map { mode_t($0 & 0o777) } ?? 0o600
            try AuthFiles.replace(file, temporary: directory + ".tmp." + base, bytes: new, mode: mode)
            _ = consume lock
            return 0
        } catch {
            io.printError("\(error)")
            return 1
        }
    }
}

/// Pure edits of userdb text: every line other than the record being changed is kept byte
/// for byte (comments included). A record is a line `name<TAB>fields`; the first one whose
/// name matches is the one changed.
public enum UserdbTextEditor {
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var result = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if bytes.last == UInt8(ascii: "\n") || bytes.isEmpty { result.removeLast() }
        return result
    }

    /// (name, fields) of a record line; nil for comments and lines without a name.
    static func split(_ line: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "\t") else { return nil }
        guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else { return (line, []) }
        return (line[..<tab], line[(tab + 1)...])
    }

    static func fields(_ text: ArraySlice<UInt8>) -> [(String, String?)] {
        text.split(separator: UInt8(ascii: "|")).map { item in
            guard let equals = item.firstIndex(of: UInt8(ascii: "=")) else { return (String(decoding: item, as: UTF8.self), nil) }
            return (String(decoding: item[..<equals], as: UTF8.self), String(decoding: item[(equals + 1)...], as: UTF8.self))
        }
    }

    static func render(name: String, _ fields: [(String, String?)]) -> [UInt8] {
        let items: [String] = fields.map { field in
            if let value = field.1 { return field.0 + "=" + value }
            return field.0
        }
        return Array((name + "\t" + items.joined(separator: "|")).utf8)
    }

    private static func join(_ lines: [ArraySlice<UInt8>]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            out += line
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    private static func index(of name: String, in lines: [ArraySlice<UInt8>]) -> Int? {
        let key = Array(name.utf8)
        return lines.firstIndex { line in split(line).map { $0.0.elementsEqual(key) } ?? false }
    }

    /// Sets fields of `name` (replacing values in place, appending new fields), adding the
    /// record at the end when it does not exist.
    public static func set(name: String, _ assignments: [(String, String)], in bytes: [UInt8]) -> [UInt8] {
        var all = lines(bytes)
        if let at = index(of: name, in: all), let (_, text) = split(all[at]) {
            var current = fields(text)
            for (field, value) in assignments {
                if let existing = current.firstIndex(where: { $0.0 == field }) {
                    current[existing].1 = value
                } else {
                    current.append((field, value))
                }
            }
            all[at] = render(name: name, current)[...]
        } else {
            all.append(render(name: name, assignments.map { ($0.0, $0.1) })[...])
        }
        return join(all)
    }

    /// Removes fields of `name`; nil when there is no such record (nothing to write).
    public static func unset(name: String, fields names: [String], in bytes: [UInt8]) -> [UInt8]? {
        var all = lines(bytes)
        guard let at = index(of: name, in: all), let (_, text) = split(all[at]) else { return nil }
        all[at] = render(name: name, fields(text).filter { !names.contains($0.0) })[...]
        return join(all)
    }

    /// Removes the record of `name`; nil when there is none.
    public static func delete(name: String, in bytes: [UInt8]) -> [UInt8]? {
        var all = lines(bytes)
        guard let at = index(of: name, in: all) else { return nil }
        all.remove(at: at)
        return join(all)
    }
}
