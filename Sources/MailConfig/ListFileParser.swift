/// One item of a list-style control file (`locals`, `hosteddomains`, `esmtpacceptmailfor`,
/// one line of `smtpaccess`, …), with where it came from.
public struct ListEntry: Equatable, Sendable {
    /// The line without its comment and surrounding blanks; never empty.
    public var text: String
    public var file: String
    public var line: Int

    public init(text: String, file: String, line: Int) {
        self.text = text
        self.file = file
        self.line = line
    }

    /// An error located at this entry.
    public func error(_ reason: String) -> ConfigError {
        ConfigError(file: file, line: line, reason: reason)
    }
}

/// How `#` starts a comment in a list file.
public enum CommentStyle: Sendable {
    /// From any `#` to the end of the line (Courier's `removecomments`, used for `locals`,
    /// `esmtpacceptmailfor`, `hosteddomains`).
    case anywhere
    /// Only lines whose first non-blank byte is `#` (`smtpaccess`, where a quoted value may
    /// hold a `#`).
    case wholeLine
}

/// Parser for list-style control files: one item per line; comments and blank lines ignored
/// (spec/mta.md §3.0). Courier compares lines as written; we also drop blanks around an item,
/// which can only ever have been a mistake in a domain list.
public enum ListFileParser {
    public static func parse(
        _ bytes: [UInt8], file: String, comments: CommentStyle = .anywhere,
        maxBytes: Int = ConfigLimits.maxFileBytes
    ) throws(ConfigError) -> [ListEntry] {
        guard bytes.count <= maxBytes else {
            throw ConfigError(file: file, line: nil, reason: "file is larger than \(maxBytes) bytes")
        }
        var entries: [ListEntry] = []
        var lineNumber = 0
        for rawLine in bytes.split(separator: .lf, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine[...]
            switch comments {
            case .anywhere:
                if let hash = line.firstIndex(of: .hash) { line = line[..<hash] }
            case .wholeLine:
                if line.first(where: { !$0.isBlank }) == .hash { continue }
            }
            let text = trimmed(line)
            if text.isEmpty { continue }
            entries.append(ListEntry(text: String(decoding: text, as: UTF8.self), file: file, line: lineNumber))
        }
        return entries
    }

    /// Parses a string (tests).
    public static func parse(_ text: String, file: String, comments: CommentStyle = .anywhere) throws(ConfigError) -> [ListEntry] {
        try parse(Array(text.utf8), file: file, comments: comments)
    }

    /// The first line of a one-line file (`me`, `defaultdomain`, `sizelimit`, `dsnfrom`, …)
    /// without its line ending, or nil when the file is empty (Courier's `config_read1l`).
    public static func firstLine(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty else { return nil }
        var line = bytes.prefix { $0 != .lf }
        if line.last == .cr { line = line.dropLast() }
        return String(decoding: line, as: UTF8.self)
    }
}

func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var slice = bytes
    while let first = slice.first, first.isBlank || first == .cr { slice = slice.dropFirst() }
    while let last = slice.last, last.isBlank || last == .cr { slice = slice.dropLast() }
    return slice
}
