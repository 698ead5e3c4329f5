/// `pw2userdb [--passwd=file] [--shadow=file] [--noshadow] [--nouid] [--domain=domain]`
/// (spec/access.md §4.4): prints userdb records made from `/etc/passwd` and `/etc/shadow`:
/// `name[@domain]<TAB>uid=…|gid=…|home=…[|shell=…][|systempw=…][|gecos=…]`, followed by the
/// reverse mapping `uid=<TAB>name` unless `--nouid`. A passwd field of `x` means "see shadow".
/// Accounts come out in the order of the passwd file.
public enum Pw2userdb {
    struct Options {
        var passwd = "/etc/passwd"
        var shadow = "/etc/shadow"
        var noShadow = false
        var noUid = false
        var domain = ""
    }

    public static func run(_ arguments: [String], io: ToolIO) -> Int32 {
        var options = Options()
        var rest = arguments.dropFirst()[...]
        while let argument = rest.popFirst() {
            // Getopt::Long style: --name=value, --name value, single dash accepted too.
            var name = argument
            var value: String?
            while name.hasPrefix("-") { name.removeFirst() }
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            func needValue() -> String? { value ?? rest.popFirst() }
            switch name {
            case "passwd": guard let given = needValue() else { return invalid(io) }; options.passwd = given
            case "shadow": guard let given = needValue() else { return invalid(io) }; options.shadow = given
            case "domain": guard let given = needValue() else { return invalid(io) }; options.domain = given
            case "noshadow" where value == nil: options.noShadow = true
            case "nouid" where value == nil: options.noUid = true
            default: return invalid(io)
            }
        }
        let passwd: [UInt8]
        do {
            guard let bytes = try AuthFiles.read(options.passwd, limit: 1 << 30) else {
                io.printError("\(options.passwd): No such file or directory")
                return 1
            }
            passwd = bytes
        } catch {
            io.printError("\(error)")
            return 1
        }
        var shadow: [UInt8]?
        if !options.noShadow {
            shadow = try? AuthFiles.read(options.shadow, limit: 1 << 30)
        }
        for line in convert(passwd: passwd, shadow: shadow, domain: options.domain, reverseUids: !options.noUid) {
            io.print(line)
        }
        return 0
    }

    private static func invalid(_ io: ToolIO) -> Int32 {
        io.printError("Invalid options.")
        return 1
    }

    /// The userdb lines for a passwd file and optional shadow file. Pure (fuzzable).
    public static func convert(passwd: [UInt8], shadow: [UInt8]?, domain: String, reverseUids: Bool) -> [String] {
        func lines(_ bytes: [UInt8]) -> [[String]] {
            bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
                guard line.first != UInt8(ascii: "#") else { return nil }
                return line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
                    .map { String(decoding: $0, as: UTF8.self) }
            }
        }
        var passwords: [String: String] = [:]
        for fields in lines(shadow ?? []) where fields.count >= 2 {
            passwords[fields[0]] = fields[1]
        }
        var seen = Set<String>()
        var output: [String] = []
        let suffix = domain.isEmpty ? "" : "@" + domain
        // A value must not break the record syntax.
        func clean(_ value: String) -> String {
            String(value.map { $0 == "|" ? "." : ($0.isNewline || $0 == "\t" ? " " : $0) })
        }
        for fields in lines(passwd) {
            guard fields.count >= 4, !fields[0].isEmpty, !seen.contains(fields[0]) else { continue }
            let account = fields[0]
            seen.insert(account)
            let field: (Int) -> String = { $0 < fields.count ? fields[$0] : "" }
            var record = "\(account)\(suffix)\tuid=\(clean(field(2)))|gid=\(clean(field(3)))|home=\(clean(field(5)))"
            if !field(6).isEmpty { record += "|shell=" + clean(field(6)) }
            let password = passwords[account] ?? (field(1) == "x" ? "" : field(1))
            if !password.isEmpty { record += "|systempw=" + clean(password) }
            if !field(4).isEmpty { record += "|gecos=" + clean(field(4)) }
            output.append(record)
            if reverseUids { output.append("\(clean(field(2)))=\t\(account)") }
        }
        return output
    }
}
