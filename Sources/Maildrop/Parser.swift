/// Builds statements from tokens (grammar rules of tools.md §1.8). Nesting is bounded by
/// `maxDepth`; every failure is a `MaildropSyntaxError` with the line number.
public struct MaildropParser {
    public static let maxDepth = 100

    let tokens: [MaildropLexeme]
    var index = 0
    var depth = 0

    public init(tokens: [MaildropLexeme]) { self.tokens = tokens }

    /// Tokenizes and parses a whole filter file.
    public static func parse(_ bytes: [UInt8], embedded: Bool = false) throws(MaildropSyntaxError) -> [MaildropStatement] {
        var parser = MaildropParser(tokens: try MaildropLexer.tokenize(bytes, embedded: embedded))
        let statements = try parser.statements(untilBrace: false)
        return statements
    }

    static let statementKeywords: Set<String> = [
        "if", "elsif", "else", "while", "foreach", "to", "cc", "exit", "echo", "log", "logfile", "include",
        "xfilter", "system", "exception", "dotlock", "flock", "import", "unset",
    ]
    static let oneOperandFunctions: Set<String> = ["length", "getaddr", "escape", "tolower", "toupper", "hasaddr"]
    static let listFunctions: Set<String> = ["substr", "lookup", "gdbmopen", "gdbmclose", "gdbmfetch", "gdbmstore", "time"]

    var current: MaildropLexeme { tokens[min(index, tokens.count - 1)] }
    var line: Int { current.line }

    func error(_ message: String = "Syntax error.", line: Int? = nil) -> MaildropSyntaxError {
        MaildropSyntaxError(preface: nil, message: message, line: line ?? self.line)
    }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    func isOp(_ op: String) -> Bool { current.token == .op(op) }
    func isWord(_ w: String) -> Bool { current.token == .word(w) }
    var atSeparator: Bool { current.token == .separator || current.token == .end }

    mutating func skipSeparators() { while current.token == .separator { advance() } }

    mutating func expectOp(_ op: String) throws(MaildropSyntaxError) {
        guard isOp(op) else { throw error() }
        advance()
    }

    mutating func statements(untilBrace: Bool) throws(MaildropSyntaxError) -> [MaildropStatement] {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw error("Too many nested blocks.") }
        var out: [MaildropStatement] = []
        while true {
            skipSeparators()
            if current.token == .end {
                if untilBrace { throw error() }
                return out
            }
            if untilBrace && isOp("}") { return out }
            out.append(try statement())
        }
    }

    /// `{ … }` then a newline, `;` or the end.
    mutating func block() throws(MaildropSyntaxError) -> [MaildropStatement] {
        try expectOp("{")
        let body = try statements(untilBrace: true)
        let closeLine = line
        advance()
        if !atSeparator && !isOp("}") { throw error("Syntax error after }", line: closeLine) }
        return body
    }

    /// The body of `if`, `else`, `while`, `foreach`: after a separator, a block or one statement.
    mutating func body() throws(MaildropSyntaxError) -> [MaildropStatement] {
        skipSeparators()
        if isOp("{") { return try block() }
        if current.token == .end || isOp("}") { throw error() }
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw error("Too many nested blocks.") }
        return [try statement()]
    }

    /// `( expr )` followed by a separator.
    mutating func condition() throws(MaildropSyntaxError) -> MaildropExpr {
        try expectOp("(")
        let e = try expression()
        let closeLine = line
        try expectOp(")")
        if !atSeparator { throw error("Syntax error after )", line: closeLine) }
        return e
    }

    mutating func statement() throws(MaildropSyntaxError) -> MaildropStatement {
        let startLine = line
        guard case .word(let w) = current.token, Self.statementKeywords.contains(w) else {
            let e = try expression()
            if !atSeparator && !isOp("}") { throw error() }
            return MaildropStatement(kind: .expression(e), line: startLine)
        }
        advance()
        let kind: MaildropStatement.Kind
        switch w {
        case "if", "elsif":
            let cond = try condition()
            let then = try body()
            let save = index
            skipSeparators()
            if isWord("else") {
                let elseLine = line
                advance()
                if !atSeparator { throw error("Syntax error after else", line: elseLine) }
                kind = .ifElse(cond, then, try body())
            } else if isWord("elsif") {
                let nested = try statement()
                kind = .ifElse(cond, then, [nested])
            } else {
                index = save
                kind = .ifElse(cond, then, [])
            }
        case "else":
            throw error("Syntax error.", line: startLine)
        case "while":
            let cond = try condition()
            kind = .whileLoop(cond, try body())
        case "foreach":
            if case .pattern(let re, let opts) = current.token {
                advance()
                if !atSeparator { throw error() }
                kind = .foreach(nil, MaildropPattern(source: re, options: opts), try body())
            } else {
                try expectOp("(")
                let target = try expression()
                try expectOp(")")
                try expectOp("=~")
                guard case .pattern(let re, let opts) = current.token else { throw error() }
                advance()
                if !atSeparator { throw error() }
                kind = .foreach(target, MaildropPattern(source: re, options: opts), try body())
            }
        case "to": kind = .to(try expression())
        case "cc": kind = .cc(try expression())
        case "exit": kind = .exit
        case "echo": kind = .echo(try expression())
        case "log": kind = .log(try expression())
        case "logfile": kind = .logfile(try expression())
        case "include": kind = .include(try expression())
        case "xfilter": kind = .xfilter(try expression())
        case "system": kind = .system(try expression())
        case "exception":
            guard isOp("{") else { throw error() }
            kind = .exception(try block())
            return MaildropStatement(kind: kind, line: startLine)
        case "dotlock", "flock":
            let e = try expression()
            guard isOp("{") else { throw error() }
            let b = try block()
            kind = w == "dotlock" ? .dotlock(e, b) : .flock(e, b)
            return MaildropStatement(kind: kind, line: startLine)
        case "import", "unset":
            let name: String
            switch current.token {
            case .word(let n), .doubleQuoted(let n), .singleQuoted(let n): name = n
            default: throw error()
            }
            advance()
            kind = w == "import" ? .importVariable(name) : .unset(name)
        default:
            throw error()
        }
        switch kind {
        case .ifElse, .whileLoop, .foreach: break
        default:
            if !atSeparator && !isOp("}") { throw error() }
        }
        return MaildropStatement(kind: kind, line: startLine)
    }

    // MARK: expressions, lowest precedence first

    mutating func expression() throws(MaildropSyntaxError) -> MaildropExpr {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw error("Expression too complex.") }
        // NAME = expr (right-associative)
        if index + 1 < tokens.count, tokens[index + 1].token == .op("=") {
            let name: String
            switch current.token {
            case .word(let n), .doubleQuoted(let n), .singleQuoted(let n): name = n
            default: throw error("Syntax error before =")
            }
            advance()
            advance()
            return .assign(name, try expression())
        }
        return try logicalOr()
    }

    mutating func logicalOr() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try logicalAnd()
        while isOp("||") {
            advance()
            left = .binary("||", left, try logicalAnd())
        }
        return left
    }

    mutating func logicalAnd() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try comparison()
        while isOp("&&") {
            advance()
            left = .binary("&&", left, try comparison())
        }
        return left
    }

    static let comparisons: Set<String> = ["<", "<=", ">", ">=", "==", "!=", "lt", "le", "gt", "ge", "eq", "ne"]

    mutating func comparison() throws(MaildropSyntaxError) -> MaildropExpr {
        let left = try bitOr()
        if case .op(let op) = current.token, Self.comparisons.contains(op) {
            advance()
            let right = try bitOr()
            if case .op(let next) = current.token, Self.comparisons.contains(next) { throw error() }
            return .binary(op, left, right)
        }
        return left
    }

    mutating func bitOr() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try bitAnd()
        while isOp("|") {
            advance()
            left = .binary("|", left, try bitAnd())
        }
        return left
    }

    mutating func bitAnd() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try additive()
        while isOp("&") {
            advance()
            left = .binary("&", left, try additive())
        }
        return left
    }

    mutating func additive() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try multiplicative()
        while isOp("+") || isOp("-") {
            guard case .op(let op) = current.token else { break }
            advance()
            left = .binary(op, left, try multiplicative())
        }
        return left
    }

    mutating func multiplicative() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try matchExpr()
        while isOp("*") || isOp("/") {
            guard case .op(let op) = current.token else { break }
            advance()
            left = .binary(op, left, try primary())
        }
        return left
    }

    mutating func matchExpr() throws(MaildropSyntaxError) -> MaildropExpr {
        var left = try primary()
        while isOp("=~") {
            advance()
            guard case .pattern(let re, let opts) = current.token else { throw error() }
            advance()
            left = .match(MaildropPattern(source: re, options: opts), left)
        }
        return left
    }

    mutating func primary() throws(MaildropSyntaxError) -> MaildropExpr {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw error("Expression too complex.") }
        switch current.token {
        case .pattern(let re, let opts):
            advance()
            return .match(MaildropPattern(source: re, options: opts), nil)
        case .op("!"):
            advance()
            return .not(try primary())
        case .op("~"):
            advance()
            return .complement(try primary())
        case .op("("):
            advance()
            let e = try expression()
            try expectOp(")")
            return e
        case .word(let w) where Self.oneOperandFunctions.contains(w):
            advance()
            return .call(w, [try primary()])
        case .word(let w) where Self.listFunctions.contains(w):
            advance()
            var args: [MaildropExpr] = []
            // `time` and `gdbmclose` take no operands (Courier writes them bare; `()` is accepted).
            if (w == "time" || w == "gdbmclose") && !isOp("(") { return .call(w, []) }
            try expectOp("(")
            if !isOp(")") {
                args.append(try expression())
                while isOp(",") {
                    advance()
                    args.append(try expression())
                }
            }
            try expectOp(")")
            return .call(w, args)
        case .word, .doubleQuoted, .singleQuoted, .backquoted:
            var parts: [MaildropText] = []
            loop: while true {
                switch current.token {
                case .word(let w) where !Self.statementKeywords.contains(w) || parts.isEmpty:
                    if Self.oneOperandFunctions.contains(w) || Self.listFunctions.contains(w) { break loop }
                    parts.append(.substituted(w))
                case .doubleQuoted(let s): parts.append(.substituted(s))
                case .singleQuoted(let s): parts.append(.literal(s))
                case .backquoted(let s): parts.append(.command(s))
                default: break loop
                }
                advance()
            }
            return .text(parts)
        default:
            throw error()
        }
    }
}
