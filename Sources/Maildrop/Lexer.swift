/// One token of a maildrop filter file (maildropfilter(7); tools.md §1.3).
public enum MaildropToken: Equatable, Sendable {
    /// An unquoted word (variable-substituted), e.g. `./Maildir`, `$N`, `1/10`.
    case word(String)
    /// `"…"` text: substituted when evaluated.
    case doubleQuoted(String)
    /// `'…'` text: taken literally.
    case singleQuoted(String)
    /// `` `…` ``: a shell command whose output replaces the token.
    case backquoted(String)
    /// `/regex/:options`.
    case pattern(String, options: String)
    /// An operator or punctuation: `|| && | & < <= > >= == != =~ ! ~ + - * / ( ) { } , =`.
    case op(String)
    /// A newline or `;`: ends a statement.
    case separator
    case end
}

/// A token with the line it started on.
public struct MaildropLexeme: Equatable, Sendable {
    public var token: MaildropToken
    public var line: Int
}

/// A filter file that cannot be read as tokens or statements.
public struct MaildropSyntaxError: Error, Equatable, Sendable {
    /// Printed before the `FILE(LINE): …` line (e.g. `maildrop: Missing ', ", or \`.`).
    public var preface: String?
    /// `Syntax error.`, `Syntax error after )`, …
    public var message: String
    public var line: Int
}

/// Splits a filter file into tokens. Bounded: a file over `maxBytes` or a token over
/// `maxTokenBytes` is a syntax error; nothing here can trap on hostile input.
public struct MaildropLexer {
    public static let maxBytes = 1 << 20
    public static let maxTokenBytes = 64 * 1024

    /// Statements forbidden in embedded mode (`-m`), rejected while reading the file.
    static let embeddedForbidden: Set<String> = ["cc", "dotlock", "flock", "log", "logfile", "system", "to", "xfilter"]

    let bytes: [UInt8]
    var pos = 0
    var line = 1
    let embedded: Bool

    public init(_ bytes: [UInt8], embedded: Bool = false) {
        self.bytes = bytes
        self.embedded = embedded
    }

    public static func tokenize(_ bytes: [UInt8], embedded: Bool = false) throws(MaildropSyntaxError) -> [MaildropLexeme] {
        guard bytes.count <= maxBytes else { throw MaildropSyntaxError(preface: nil, message: "Syntax error.", line: 1) }
        var lexer = MaildropLexer(bytes, embedded: embedded)
        var out: [MaildropLexeme] = []
        while true {
            let lexeme = try lexer.next(previous: out.last?.token)
            out.append(lexeme)
            if lexeme.token == .end { return out }
        }
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let i = pos + offset
        return i < bytes.count ? bytes[i] : nil
    }

    static func isWordStart(_ c: UInt8) -> Bool {
        isLetterOrDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: "@")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") || c == UInt8(ascii: "/") || c == UInt8(ascii: "$")
    }

    static func isWordChar(_ c: UInt8) -> Bool {
        isWordStart(c) || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
    }

    static func isLetterOrDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c >= 0x80
    }

    mutating func next(previous: MaildropToken?) throws(MaildropSyntaxError) -> MaildropLexeme {
        // Blanks, comments and backslash-newline continuations.
        while let c = peek() {
            if c == 0x20 || c == 0x09 || c == 0x0D {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                while let d = peek(), d != 0x0A { pos += 1 }
            } else if c == UInt8(ascii: "\\") && continuationFollows(at: pos + 1) {
                pos += 1
                while let d = peek(), d != 0x0A { pos += 1 }
                pos += 1
                line += 1
            } else {
                break
            }
        }
        let startLine = line
        guard let c = peek() else { return MaildropLexeme(token: .end, line: line) }
        if c == 0x0A || c == UInt8(ascii: ";") {
            pos += 1
            if c == 0x0A { line += 1 }
            return MaildropLexeme(token: .separator, line: startLine)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "`") {
            if c == UInt8(ascii: "`") && embedded {
                throw MaildropSyntaxError(preface: "maildrop: '`' disabled in embedded mode.", message: "Syntax error.", line: startLine)
            }
            let text = try quoted(c)
            let token: MaildropToken = c == UInt8(ascii: "\"") ? .doubleQuoted(text)
                : c == UInt8(ascii: "'") ? .singleQuoted(text) : .backquoted(text)
            return MaildropLexeme(token: token, line: startLine)
        }
        if c == UInt8(ascii: "/") {
            let afterPathKeyword: Bool
            switch previous {
            case .op("=")?, .word("to")?, .word("cc")?: afterPathKeyword = true
            default: afterPathKeyword = false
            }
            let nextChar = peek(1)
            let division = nextChar == nil || nextChar == 0x20 || nextChar == 0x09 || nextChar == 0x0A || nextChar == 0x0D
            if !afterPathKeyword && !division {
                return MaildropLexeme(token: try pattern(), line: startLine)
            }
            if division && !afterPathKeyword {
                pos += 1
                return MaildropLexeme(token: .op("/"), line: startLine)
            }
        }
        if Self.isWordStart(c) {
            var word: [UInt8] = []
            while let d = peek(), Self.isWordChar(d) {
                word.append(d)
                pos += 1
                if word.count > Self.maxTokenBytes { throw MaildropSyntaxError(preface: nil, message: "Syntax error.", line: startLine) }
            }
            let text = String(decoding: word, as: UTF8.self)
            if text == "-" { return MaildropLexeme(token: .op("-"), line: startLine) }
            if ["lt", "le", "gt", "ge", "eq", "ne"].contains(text) { return MaildropLexeme(token: .op(text), line: startLine) }
            if embedded && Self.embeddedForbidden.contains(text) {
                throw MaildropSyntaxError(preface: "maildrop: '\(text)' disabled in embedded mode.", message: "Syntax error.", line: startLine)
            }
            return MaildropLexeme(token: .word(text), line: startLine)
        }
        // Operators, longest first.
        let two: [String] = ["||", "&&", "<=", ">=", "==", "!=", "=~"]
        if let d = peek(1) {
            let pair = String(decoding: [c, d], as: UTF8.self)
            if two.contains(pair) {
                pos += 2
                return MaildropLexeme(token: .op(pair), line: startLine)
            }
        }
        let singles: [UInt8] = Array("|&<>!~+-*/(){},=".utf8)
        if singles.contains(c) {
            pos += 1
            return MaildropLexeme(token: .op(String(decoding: [c], as: UTF8.self)), line: startLine)
        }
        throw MaildropSyntaxError(preface: nil, message: "Syntax error.", line: startLine)
    }

    /// True if only blanks follow up to the end of the line (a `\` there joins lines).
    private func continuationFollows(at index: Int) -> Bool {
        var i = index
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x0A { return true }
            if c != 0x20 && c != 0x09 && c != 0x0D { return false }
            i += 1
        }
        return false
    }

    /// A quoted string: `\` + the same quote or `\` gives that character; `\` + anything
    /// else is kept as both bytes; `\` at the end of a line joins the next line, minus its
    /// leading blanks.
    private mutating func quoted(_ quote: UInt8) throws(MaildropSyntaxError) -> String {
        let startLine = line
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != 0x0A else {
                throw MaildropSyntaxError(preface: "maildrop: Missing ', \", or `.", message: "Syntax error.", line: startLine)
            }
            if out.count > Self.maxTokenBytes { throw MaildropSyntaxError(preface: nil, message: "Syntax error.", line: startLine) }
            pos += 1
            if c == quote { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                if continuationFollows(at: pos) {
                    while let d = peek(), d != 0x0A { pos += 1 }
                    pos += 1
                    line += 1
                    while let d = peek(), d == 0x20 || d == 0x09 { pos += 1 }
                    continue
                }
                guard let d = peek() else { continue }
                if d == quote || d == UInt8(ascii: "\\") {
                    out.append(d)
                    pos += 1
                } else {
                    out.append(c)
                }
                continue
            }
            out.append(c)
        }
    }

    /// `/regex/` plus `:options`: the regex runs to the next unescaped `/`.
    private mutating func pattern() throws(MaildropSyntaxError) -> MaildropToken {
        let startLine = line
        pos += 1
        var re: [UInt8] = []
        while true {
            guard let c = peek(), c != 0x0A else {
                throw MaildropSyntaxError(preface: nil, message: "Syntax error.", line: startLine)
            }
            if re.count > Self.maxTokenBytes { throw MaildropSyntaxError(preface: nil, message: "Syntax error.", line: startLine) }
            pos += 1
            if c == UInt8(ascii: "/") { break }
            re.append(c)
            if c == UInt8(ascii: "\\"), let d = peek(), d != 0x0A {
                re.append(d)
                pos += 1
            }
        }
        var options: [UInt8] = []
        if peek() == UInt8(ascii: ":") {
            pos += 1
            while let d = peek(), Self.isLetterOrDigit(d) && d < 0x80 || d == UInt8(ascii: "-") || d == UInt8(ascii: "+")
                || d == UInt8(ascii: ".") || d == UInt8(ascii: ",") {
                options.append(d)
                pos += 1
            }
        }
        return .pattern(String(decoding: re, as: UTF8.self), options: String(decoding: options, as: UTF8.self))
    }
}
