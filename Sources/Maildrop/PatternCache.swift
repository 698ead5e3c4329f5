/// A pattern ready to run: its substituted text, parsed options, the literal text a line
/// needs before it can match, and the `SimplePattern` program when the pattern has a common
/// shape. Built once per pattern of the filter and reused on every evaluation while the
/// substituted text stays the same (a `$VAR` in the pattern may change it).
final class CompiledPattern {
    let source: String
    let options: PatternOptions
    /// Lowercased literal text an anchored pattern needs at the start of a line.
    let prefix: [UInt8]
    /// Lowercased text a plain-word pattern needs somewhere in the line.
    let needle: [UInt8]
    /// nil: the pattern needs a Swift `Regex`. Built at the first line that may match (most
    /// rules of a filter find no such line and never need it).
    lazy var simple: SimplePattern? = SimplePattern(source, caseless: !options.caseSensitive)

    init(source: String, options: PatternOptions) {
        self.source = source
        self.options = options
        prefix = MaildropInterpreter.requiredPrefix(source)
        needle = MaildropInterpreter.requiredText(source)
    }
}

/// The compiled patterns of one run, by the pattern as written in the filter.
struct PatternCache {
    /// Keyed by `options/source` as written (options never hold a `/`). A String key: the
    /// String dictionaries the interpreter already uses make its type metadata free, where a
    /// dictionary keyed by a struct of our own costs a conformance search of the whole
    /// (static) binary at its first use.
    private var entries: [String: CompiledPattern] = [:]
    /// A filter has a bounded number of patterns; generated ones (include loops) are not kept
    /// beyond this.
    static let limit = 1000

    /// The compiled form of `pattern` whose substituted text is `source`.
    mutating func compiled(_ pattern: MaildropPattern, source: String) -> CompiledPattern {
        let key = pattern.options + "/" + pattern.source
        if let hit = entries[key], hit.source == source { return hit }
        let made = CompiledPattern(source: source, options: PatternOptions(pattern.options))
        if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
        entries[key] = made
        return made
    }
}

extension MaildropInterpreter {
    /// The compiled form of `pattern` after variable substitution (none when it has no `$`).
    func compiled(_ pattern: MaildropPattern) -> CompiledPattern {
        let source = pattern.source.utf8.contains(UInt8(ascii: "$")) ? substitute(pattern.source) : pattern.source
        return patternCache.compiled(pattern, source: source)
    }
}
