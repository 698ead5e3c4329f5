/// One `NAME=value` assignment from a Courier variable file, with the line it starts on.
public struct VariableAssignment: Equatable, Sendable {
    public var name: String
    /// The value after quote removal, escapes and `$NAME` expansion.
    public var value: String
    /// 1-based line of the assignment's first byte.
    public var line: Int

    public init(name: String, value: String, line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }
}

/// A `##NAME: SETTING:VERSION` marker line: Courier's sysconftool uses them to carry settings
/// across upgrades, and tools that rewrite a file must keep them.
public struct SectionMarker: Equatable, Sendable {
    public var name: String
    public var version: Int
    public var line: Int

    public init(name: String, version: Int, line: Int) {
        self.name = name
        self.version = version
        self.line = line
    }
}

/// A parsed variable file (`esmtpd`, `imapd-ssl`, `courierd`, `authdaemonrc`, …).
public struct VariableFile: Equatable, Sendable {
    public var assignments: [VariableAssignment]
    public var markers: [SectionMarker]

    public init(assignments: [VariableAssignment] = [], markers: [SectionMarker] = []) {
        self.assignments = assignments
        self.markers = markers
    }
}

/// Parser for Courier's `VAR=value` files (spec/mta.md §2.2, §3.0).
///
/// Courier's start scripts read these files with the Bourne shell (`set -a; . file`), so the
/// accepted syntax is the subset of shell that such files use, parsed without running anything:
/// - blank lines; `#` comments (whole lines, or after a value); `##NAME: VAR:N` markers;
/// - `NAME=value` with `NAME` = `[A-Za-z_][A-Za-z0-9_]*`, no blanks around `=`, an optional
///   `export ` in front; several assignments on one line are allowed (`A=1 B=2`);
/// - values: bare words, `'single quoted'` (literal), `"double quoted"` (`\"`, `\\`, `\$`, `` \` ``
///   escapes), `\x` outside quotes; backslash-newline joins lines (not inside single quotes);
///   quoted values may span lines;
/// - `$NAME` and `${NAME}` expand earlier assignments (in this file, then `environment`,
///   e.g. `esmtpd` for `esmtpd-ssl`); unset names expand to the empty string.
///
/// Anything that would make the shell run a command or do more than assign (command
/// substitution, `${X:-y}`, pipes, redirections, a bare word after a value) is an error
/// naming the line, so a file never means something different to us than to `sh`.
public enum VariableFileParser {
    /// Parses `bytes` (the whole file). `file` names the file in errors; `environment` holds
    /// values visible to `$NAME` before this file's own assignments.
    public static func parse(
        _ bytes: [UInt8], file: String, environment: [String: String] = [:]
    ) throws(ConfigError) -> VariableFile {
        guard bytes.count <= ConfigLimits.maxFileBytes else {
            throw ConfigError(file: file, line: nil, reason: "file is larger than \(ConfigLimits.maxFileBytes) bytes")
        }
        var parser = Parser(bytes: bytes, file: file, environment: environment)
        return try parser.parseFile()
    }

    /// Parses a string (tests, generated files).
    public static func parse(
        _ text: String, file: String, environment: [String: String] = [:]
    ) throws(ConfigError) -> VariableFile {
        try parse(Array(text.utf8), file: file, environment: environment)
    }
}

// MARK: - The parser

private struct Parser {
    let bytes: [UInt8]
    let file: String
    var environment: [String: String]
    var index = 0
    var line = 1
    var result = VariableFile()

    init(bytes: [UInt8], file: String, environment: [String: String]) {
        self.bytes = bytes
        self.file = file
        self.environment = environment
    }

    func error(_ reason: String, line: Int? = nil) -> ConfigError {
        ConfigError(file: file, line: line ?? self.line, reason: reason)
    }

    var atEnd: Bool { index >= bytes.count }

    func peek(_ offset: Int = 0) -> UInt8? {
        let at = index + offset
        return at < bytes.count ? bytes[at] : nil
    }

    /// True at a line break: LF, or CR LF (files edited on other systems).
    func atNewline() -> Bool {
        peek() == .lf || (peek() == .cr && peek(1) == .lf)
    }

    mutating func consumeNewline() {
        if peek() == .cr { index += 1 }
        index += 1
        line += 1
    }

    /// Backslash followed by a line break: a continuation, removed.
    func atContinuation() -> Bool {
        guard peek() == .backslash else { return false }
        return peek(1) == .lf || (peek(1) == .cr && peek(2) == .lf)
    }

    mutating func consumeContinuation() {
        index += 1
        consumeNewline()
    }

    mutating func skipBlanks() {
        while let byte = peek() {
            if byte == .space || byte == .tab {
                index += 1
            } else if atContinuation() {
                consumeContinuation()
            } else {
                return
            }
        }
    }

    mutating func skipToLineEnd() {
        while !atEnd, !atNewline() { index += 1 }
    }

    mutating func parseFile() throws(ConfigError) -> VariableFile {
        while !atEnd {
            skipBlanks()
            if atEnd { break }
            if atNewline() {
                consumeNewline()
                continue
            }
            if peek() == .hash {
                readComment()
                continue
            }
            try parseStatement()
        }
        return result
    }

    /// A comment line; records `##NAME: SETTING:VERSION` markers.
    mutating func readComment() {
        let start = index
        skipToLineEnd()
        let text = bytes[start..<index]
        let prefix = Array("##NAME:".utf8)
        if text.starts(with: prefix) {
            var rest = text.dropFirst(prefix.count).drop { $0 == .space || $0 == .tab }
            while let last = rest.last, last == .space || last == .tab || last == .cr { rest = rest.dropLast() }
            if let colon = rest.lastIndex(of: .colon) {
                let name = String(decoding: rest[rest.startIndex..<colon], as: UTF8.self)
                let version = Int(String(decoding: rest[(colon + 1)...], as: UTF8.self)) ?? 0
                result.markers.append(SectionMarker(name: name, version: version, line: line))
            }
        }
    }

    /// One or more assignments up to the end of the line (or a comment).
    mutating func parseStatement() throws(ConfigError) {
        let startLine = line
        var name = readName()
        if name == "export", peek() == .space || peek() == .tab {
            skipBlanks()
            name = readName()
            if !name.isEmpty, peek() != .equals {
                // `export NAME` only marks NAME for export; every variable here is exported.
                try finishAfterValue(name: name)
                return
            }
        }
        guard !name.isEmpty else {
            throw error(describeUnexpected(expected: "a setting NAME=value"))
        }
        guard peek() == .equals else {
            if peek() == .space || peek() == .tab {
                var probe = self
                probe.skipBlanks()
                if probe.peek() == .equals {
                    throw error("no blanks are allowed around '=' in \(name)=value")
                }
            }
            throw error("expected '=' after \(name) (settings are written NAME=value)")
        }
        index += 1
        let value = try readValue(name: name)
        result.assignments.append(VariableAssignment(name: name, value: value, line: startLine))
        environment[name] = value
        try finishAfterValue(name: name)
    }

    /// After a value: blanks, then the end of the line, a comment, `;`, or another assignment.
    mutating func finishAfterValue(name: String) throws(ConfigError) {
        skipBlanks()
        if atEnd { return }
        if atNewline() {
            consumeNewline()
            return
        }
        switch peek() {
        case .hash:
            readComment()
        case .semicolon:
            index += 1
        default:
            if let byte = peek(), byte.isNameStart {
                var probe = self
                let next = probe.readName()
                if probe.peek() == .equals || next == "export" {
                    return   // parseFile continues with the next assignment on this line
                }
            }
            throw error("unexpected text after the value of \(name); quote values that contain blanks")
        }
    }

    mutating func readName() -> String {
        guard let first = peek(), first.isNameStart else { return "" }
        let start = index
        index += 1
        while let byte = peek(), byte.isNameByte { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    func describeUnexpected(expected: String) -> String {
        guard let byte = peek() else { return "expected \(expected)" }
        if byte >= 0x21, byte < 0x7F {
            return "expected \(expected), found '\(Character(Unicode.Scalar(byte)))'"
        }
        return "expected \(expected), found byte 0x\(String(byte, radix: 16))"
    }

    /// A shell word: the value of one assignment.
    mutating func readValue(name: String) throws(ConfigError) -> String {
        var value: [UInt8] = []
        while let byte = peek() {
            if value.count > ConfigLimits.maxValueBytes {
                throw error("the value of \(name) is longer than \(ConfigLimits.maxValueBytes) bytes")
            }
            switch byte {
            case .space, .tab, .semicolon:
                return String(decoding: value, as: UTF8.self)
            case .lf:
                return String(decoding: value, as: UTF8.self)
            case .cr where peek(1) == .lf:
                return String(decoding: value, as: UTF8.self)
            case .singleQuote:
                try readSingleQuoted(into: &value)
            case .doubleQuote:
                try readDoubleQuoted(into: &value)
            case .backslash:
                if atContinuation() {
                    consumeContinuation()
                } else {
                    index += 1
                    if let escaped = peek() {
                        value.append(escaped)
                        index += 1
                    } else {
                        value.append(.backslash)
                    }
                }
            case .dollar:
                try expand(into: &value)
            case .backtick:
                throw error("command substitution (`…`) is not supported in \(name)")
            case .openParen, .closeParen, .less, .greater, .pipe, .ampersand:
                throw error("'\(Character(Unicode.Scalar(byte)))' in the value of \(name) must be quoted")
            default:
                value.append(byte)
                index += 1
            }
        }
        return String(decoding: value, as: UTF8.self)
    }

    mutating func readSingleQuoted(into value: inout [UInt8]) throws(ConfigError) {
        let startLine = line
        index += 1
        while let byte = peek() {
            if byte == .singleQuote {
                index += 1
                return
            }
            if byte == .lf { line += 1 }
            value.append(byte)
            index += 1
        }
        throw error("unterminated single quote", line: startLine)
    }

    mutating func readDoubleQuoted(into value: inout [UInt8]) throws(ConfigError) {
        let startLine = line
        index += 1
        while let byte = peek() {
            switch byte {
            case .doubleQuote:
                index += 1
                return
            case .backslash:
                if atContinuation() {
                    consumeContinuation()
                    continue
                }
                if let next = peek(1), next == .dollar || next == .backtick || next == .doubleQuote || next == .backslash {
                    value.append(next)
                    index += 2
                } else {
                    value.append(.backslash)
                    index += 1
                }
            case .dollar:
                try expand(into: &value)
            case .backtick:
                throw error("command substitution (`…`) is not supported")
            case .lf:
                line += 1
                value.append(byte)
                index += 1
            default:
                value.append(byte)
                index += 1
            }
            if value.count > ConfigLimits.maxValueBytes {
                throw error("value longer than \(ConfigLimits.maxValueBytes) bytes", line: startLine)
            }
        }
        throw error("unterminated double quote", line: startLine)
    }

    /// `$NAME` or `${NAME}`; a `$` that starts neither stays a literal `$`.
    mutating func expand(into value: inout [UInt8]) throws(ConfigError) {
        index += 1   // the '$'
        guard let next = peek() else {
            value.append(.dollar)
            return
        }
        if next == .openParen {
            throw error("command substitution ($(…)) is not supported")
        }
        if next == .openBrace {
            index += 1
            let name = readName()
            guard !name.isEmpty, peek() == .closeBrace else {
                throw error("only ${NAME} is supported, not other parameter expansions")
            }
            index += 1
            value.append(contentsOf: (environment[name] ?? "").utf8)
            return
        }
        if next.isNameStart {
            let name = readName()
            value.append(contentsOf: (environment[name] ?? "").utf8)
            return
        }
        if next.isDigit || next == .dollar || next == .question || next == .hash || next == .exclamation
            || next == .star || next == .at || next == .minus {
            throw error("the shell parameter $\(Character(Unicode.Scalar(next))) is not supported")
        }
        value.append(.dollar)
    }
}

extension UInt8 {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let exclamation: UInt8 = 0x21
    static let doubleQuote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let dollar: UInt8 = 0x24
    static let ampersand: UInt8 = 0x26
    static let singleQuote: UInt8 = 0x27
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29
    static let star: UInt8 = 0x2A
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let less: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greater: UInt8 = 0x3E
    static let question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let backslash: UInt8 = 0x5C
    static let underscore: UInt8 = 0x5F
    static let backtick: UInt8 = 0x60
    static let openBrace: UInt8 = 0x7B
    static let pipe: UInt8 = 0x7C
    static let closeBrace: UInt8 = 0x7D

    var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isLetter: Bool { (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) }
    var isNameStart: Bool { isLetter || self == .underscore }
    var isNameByte: Bool { isNameStart || isDigit }
    var isBlank: Bool { self == .space || self == .tab }
}
