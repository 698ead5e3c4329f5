/// Parser for courier-authlib's module files (`authpgsqlrc`, `authmysqlrc`, `authldaprc`;
/// spec/access.md §4.7): one `KEY<blanks>value` per line, the value running to the end of the
/// line (trailing blanks removed); a trailing backslash continues the value on the next line;
/// `#` lines and blank lines are ignored. A later key replaces an earlier one.
public enum AuthRCParser {
    /// The settings with the line each starts on.
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> [String: (value: String, line: Int)] {
        guard bytes.count <= ConfigLimits.maxFileBytes else {
            throw ConfigError(file: file, line: nil, reason: "file is larger than \(ConfigLimits.maxFileBytes) bytes")
        }
        var result: [String: (value: String, line: Int)] = [:]
        var pendingKey: String?
        var pendingValue: [UInt8] = []
        var pendingLine = 0
        var lineNumber = 0
        for rawLine in bytes.split(separator: .lf, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine[...]
            if line.last == .cr { line = line.dropLast() }
            if let key = pendingKey {
                let continued = line.last == .backslash
                pendingValue += continued ? line.dropLast() : line
                if !continued {
                    result[key] = (finish(pendingValue), pendingLine)
                    pendingKey = nil
                }
                continue
            }
            let start = line.drop { $0.isBlank }
            if start.isEmpty || start.first == .hash { continue }
            let keyBytes = start.prefix { !$0.isBlank && $0 != .backslash }
            let key = String(decoding: keyBytes, as: UTF8.self)
            guard keyBytes.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) }) else {
                throw ConfigError(file: file, line: lineNumber, reason: "expected 'KEY value', found '\(key)'")
            }
            var value = start.dropFirst(keyBytes.count).drop { $0.isBlank }
            if value.last == .backslash {
                value = value.dropLast()
                pendingKey = key
                pendingValue = Array(value)
                pendingLine = lineNumber
                continue
            }
            result[key] = (finish(Array(value)), lineNumber)
        }
        if let key = pendingKey { result[key] = (finish(pendingValue), pendingLine) }
        return result
    }

    private static func finish(_ bytes: [UInt8]) -> String {
        var value = bytes[...]
        while let last = value.last, last.isBlank { value = value.dropLast() }
        return String(decoding: value, as: UTF8.self)
    }
}
