/// The variables a service sees after reading its files in order (`esmtpd` then
/// `esmtpd-ssl`: later files override earlier ones), each remembering where it was set, with
/// typed accessors whose errors point at that line.
public struct ConfigVariables: Sendable, Equatable {
    /// A value and where it was set.
    public struct Setting: Sendable, Equatable {
        public var value: String
        public var file: String
        public var line: Int
    }

    public private(set) var settings: [String: Setting] = [:]
    /// The files read, in order (for messages about unset variables).
    public private(set) var files: [String] = []

    public init() {}

    /// Adds a parsed file; its assignments override earlier ones.
    public mutating func merge(_ parsed: VariableFile, file: String) {
        files.append(file)
        for assignment in parsed.assignments {
            settings[assignment.name] = Setting(value: assignment.value, file: file, line: assignment.line)
        }
    }

    /// Plain values, for `$NAME` expansion in the next file and for child environments.
    public var environment: [String: String] {
        settings.mapValues(\.value)
    }

    public subscript(name: String) -> String? {
        settings[name]?.value
    }

    /// An error located where `name` was set (or at the last file read when it is unset).
    public func error(_ name: String, _ reason: String) -> ConfigError {
        if let setting = settings[name] {
            return ConfigError(file: setting.file, line: setting.line, reason: reason)
        }
        return ConfigError(file: files.last ?? "(no file)", line: nil, reason: reason)
    }

    public func string(_ name: String, default fallback: String) -> String {
        self[name] ?? fallback
    }

    /// A whole number in `range`; unset gives `fallback`.
    public func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let text = self[name] else { return fallback }
        guard let value = Int(text.trimmingBlanks), range.contains(value) else {
            throw error(name, "\(name)=\(text): expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Courier's yes/no settings: `1`/`0`, `YES`/`NO` (start flags), also `true`/`false` and
    /// `on`/`off`, in any case. Unset or empty gives `fallback`.
    public func bool(_ name: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let text = self[name]?.trimmingBlanks, !text.isEmpty else { return fallback }
        switch text.lowercased() {
        case "1", "yes", "y", "true", "on": return true
        case "0", "no", "n", "false", "off": return false
        default:
            throw error(name, "\(name)=\(text): expected YES or NO (or 1 or 0)")
        }
    }

    /// A blank-separated list (`ESMTPAUTH="PLAIN LOGIN"`).
    public func list(_ name: String) -> [String] {
        (self[name] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
    }

    /// A time interval in seconds (`IntervalParser`).
    public func interval(_ name: String, default fallback: Int) throws(ConfigError) -> Int {
        guard let text = self[name] else { return fallback }
        guard let seconds = IntervalParser.seconds(text) else {
            throw error(name, "\(name)=\(text): expected a time such as 30s, 5m, 1h or 1w2d")
        }
        return seconds
    }
}

extension String {
    var trimmingBlanks: String {
        String(decoding: trimmed(Array(utf8)[...]), as: UTF8.self)
    }
}
