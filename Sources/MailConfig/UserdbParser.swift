/// One account record of Courier's userdb text file (spec/access.md §4.4):
/// `name<TAB>field=value|field=value|…`.
public struct UserdbRecord: Equatable, Sendable {
    public var name: String
    /// Fields in file order (`uid`, `gid`, `home`, `mail`, `systempw`, …).
    public var fields: [(String, String)]
    public var file: String
    public var line: Int

    public init(name: String, fields: [(String, String)], file: String, line: Int) {
        self.name = name
        self.fields = fields
        self.file = file
        self.line = line
    }

    public subscript(field: String) -> String? {
        fields.first { $0.0 == field }?.1
    }

    public static func == (lhs: UserdbRecord, rhs: UserdbRecord) -> Bool {
        lhs.name == rhs.name && lhs.file == rhs.file && lhs.line == rhs.line
            && lhs.fields.elementsEqual(rhs.fields) { $0 == $1 }
    }

    /// The record as a line of the text file (without the newline).
    public var formatted: String {
        name + "\t" + fields.map { "\($0.0)=\($0.1)" }.joined(separator: "|")
    }
}

/// Parser for userdb text files. Blank lines and `#` lines are ignored.
public enum UserdbParser {
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> [UserdbRecord] {
        var records: [UserdbRecord] = []
        for entry in try ListFileParser.parse(bytes, file: file, comments: .wholeLine) {
            let text = entry.text
            guard let tab = text.firstIndex(of: "\t") else {
                throw entry.error("expected 'name<TAB>field=value|field=value…'")
            }
            let name = String(text[..<tab])
            guard !name.isEmpty, !name.contains(" ") else { throw entry.error("bad account name '\(name)'") }
            if name.hasSuffix("=") { continue }   // `uid=<TAB>name`: a reverse uid mapping
            var fields: [(String, String)] = []
            for item in text[text.index(after: tab)...].split(separator: "|") {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw entry.error("bad field '\(item)' (expected field=value)")
                }
                fields.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
            }
            records.append(UserdbRecord(name: name, fields: fields, file: entry.file, line: entry.line))
        }
        return records
    }
}
