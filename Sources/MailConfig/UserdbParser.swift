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

    /// True for a reverse uid mapping record (`<uid>=<TAB><name>`), which names no account.
    public var isUidMapping: Bool {
        name.hasSuffix("=")
    }
}

/// What a lenient parse of userdb text found: the good records, and one located error per
/// bad line (the other lines still count; `makeuserdb` reports the errors and builds the rest).
public struct UserdbParseResult: Sendable {
    public var records: [UserdbRecord]
    public var errors: [ConfigError]

    public init(records: [UserdbRecord] = [], errors: [ConfigError] = []) {
        self.records = records
        self.errors = errors
    }
}

/// Parser for userdb text files. Blank lines and `#` lines are ignored.
public enum UserdbParser {
    /// Longest account name (bytes).
    public static let maxNameBytes = 512

    /// Strict parse: the first bad line is an error (the config loader's view).
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> [UserdbRecord] {
        let result = try parseReporting(bytes, file: file, maxBytes: ConfigLimits.maxUserdbBytes)
        if let first = result.errors.first { throw first }
        return result.records.filter { !$0.isUidMapping }
    }

    /// Lenient parse: every line that is not a valid record is reported with its file and line
    /// and skipped; the rest are returned (reverse uid mappings included, see `isUidMapping`).
    /// Throws only when the whole file is unusable (larger than `maxBytes`).
    public static func parseReporting(
        _ bytes: [UInt8], file: String, maxBytes: Int = ConfigLimits.maxUserdbBytes
    ) throws(ConfigError) -> UserdbParseResult {
        var records: [UserdbRecord] = []
        var errors: [ConfigError] = []
        for entry in try ListFileParser.parse(bytes, file: file, comments: .wholeLine, maxBytes: maxBytes) {
            switch parseLine(entry) {
            case .success(let record): records.append(record)
            case .failure(let error): errors.append(error)
            }
        }
        return UserdbParseResult(records: records, errors: errors)
    }

    private static func parseLine(_ entry: ListEntry) -> Result<UserdbRecord, ConfigError> {
        // Split on Unicode scalars, not Characters: "\u{0600}|" or "|\u{0301}" is one
        // Character, and a Character test would miss the separator inside it (the compiled
        // database and the lookup side split on bytes).
        let text = entry.text.unicodeScalars
        guard let tab = text.firstIndex(of: "\t") else {
            return .failure(entry.error("expected 'name<TAB>field=value|field=value…'"))
        }
        let name = String(text[..<tab])
        guard !name.isEmpty, name.utf8.count <= maxNameBytes,
              !name.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f || $0 == UInt8(ascii: "|") })
        else {
            let shown = name.utf8.count > 60 ? String(name.prefix(60)) + "…" : name
            return .failure(entry.error("bad account name '\(shown)'"))
        }
        let rest = text[text.index(after: tab)...]
        if name.hasSuffix("=") {   // `uid=<TAB>name`: a reverse uid mapping
            return .success(UserdbRecord(name: name, fields: [("", String(rest))], file: entry.file, line: entry.line))
        }
        var fields: [(String, String)] = []
        for item in rest.split(separator: "|") {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                return .failure(entry.error("bad field '\(String(item))' (expected field=value)"))
            }
            guard !item.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                return .failure(entry.error("control character in field '\(String(item[..<equals]))'"))
            }
            fields.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
        }
        return .success(UserdbRecord(name: name, fields: fields, file: entry.file, line: entry.line))
    }
}
