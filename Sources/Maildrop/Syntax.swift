/// A piece of string text in a filter, before evaluation.
public enum MaildropText: Equatable, Sendable {
    /// Substituted (`"…"` and unquoted words).
    case substituted(String)
    /// Taken literally (`'…'`).
    case literal(String)
    /// A shell command (`` `…` ``).
    case command(String)
}

/// `/regex/:options,W1,W2` as written (the regex is substituted before it is compiled).
public struct MaildropPattern: Equatable, Sendable {
    public var source: String
    public var options: String
}

/// An expression (tools.md §1.5).
public indirect enum MaildropExpr: Equatable, Sendable {
    /// Juxtaposed string tokens, concatenated.
    case text([MaildropText])
    case assign(String, MaildropExpr)
    case binary(String, MaildropExpr, MaildropExpr)
    case not(MaildropExpr)
    case complement(MaildropExpr)
    /// A pattern against the message (`nil` target) or against a string (`=~`).
    case match(MaildropPattern, MaildropExpr?)
    case call(String, [MaildropExpr])
}

/// A statement, with the line it starts on.
public struct MaildropStatement: Equatable, Sendable {
    public var kind: Kind
    public var line: Int

    public indirect enum Kind: Equatable, Sendable {
        case expression(MaildropExpr)
        case ifElse(MaildropExpr, [MaildropStatement], [MaildropStatement])
        case whileLoop(MaildropExpr, [MaildropStatement])
        case foreach(MaildropExpr?, MaildropPattern, [MaildropStatement])
        case to(MaildropExpr)
        case cc(MaildropExpr)
        case exit
        case echo(MaildropExpr)
        case log(MaildropExpr)
        case logfile(MaildropExpr)
        case include(MaildropExpr)
        case xfilter(MaildropExpr)
        case system(MaildropExpr)
        case exception([MaildropStatement])
        case dotlock(MaildropExpr, [MaildropStatement])
        case flock(MaildropExpr, [MaildropStatement])
        case importVariable(String)
        case unset(String)
    }
}
