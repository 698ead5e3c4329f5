/// One alias from `aliases/`: `name: target, target, …` (spec/mta.md §3.7).
public struct AliasEntry: Equatable, Sendable {
    /// The alias address, or `@domain` for a virtual-domain alias.
    public var name: String
    /// The targets in order: addresses, `:include:/path`, `/path/mailbox`, `| program`.
    public var targets: [String]
    public var file: String
    public var line: Int

    public init(name: String, targets: [String], file: String, line: Int) {
        self.name = name
        self.targets = targets
        self.file = file
        self.line = line
    }
}

/// Parser for Courier's alias files: `#` lines are comments, a line starting with a blank
/// continues the previous alias, targets are separated by commas outside double quotes.
/// Expansion (recursion, `:include:`, virtual domains) belongs to delivery, not here.
public enum AliasFileParser {
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> [AliasEntry] {
        guard bytes.count <= ConfigLimits.maxFileBytes else {
            throw ConfigError(file: file, line: nil, reason: "file is larger than \(ConfigLimits.maxFileBytes) bytes")
        }
        var entries: [AliasEntry] = []
        var current: (name: String, text: [UInt8], line: Int)?
        var lineNumber = 0

        func finish(_ alias: (name: String, text: [UInt8], line: Int)) throws(ConfigError) {
            let targets = splitTargets(alias.text)
            guard !targets.isEmpty else {
                throw ConfigError(file: file, line: alias.line, reason: "alias \(alias.name) has no targets")
            }
            entries.append(AliasEntry(name: alias.name, targets: targets, file: file, line: alias.line))
        }

        for rawLine in bytes.split(separator: .lf, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.last == .cr ? rawLine.dropLast() : rawLine[...]
            let body = trimmed(line)
            if body.isEmpty || body.first == .hash { continue }
            if let first = line.first, first.isBlank {
                guard current != nil else {
                    throw ConfigError(file: file, line: lineNumber, reason: "continuation line without an alias before it")
                }
                current?.text.append(.comma)
                current?.text.append(contentsOf: body)
                continue
            }
            if let pending = current { try finish(pending) }
            guard let colon = body.firstIndex(of: .colon) else {
                throw ConfigError(file: file, line: lineNumber, reason: "expected 'name: address, address…'")
            }
            let name = trimmed(body[..<colon])
            guard !name.isEmpty, !name.contains(where: \.isBlank) else {
                throw ConfigError(file: file, line: lineNumber, reason: "bad alias name before ':'")
            }
            current = (String(decoding: name, as: UTF8.self), Array(body[(colon + 1)...]), lineNumber)
        }
        if let pending = current { try finish(pending) }
        return entries
    }

    /// Splits at commas outside double quotes; a `:include:` target is kept whole.
    static func splitTargets(_ text: [UInt8]) -> [String] {
        var targets: [String] = []
        var piece: [UInt8] = []
        var quoted = false
        func flush() {
            let item = trimmed(piece[...])
            if !item.isEmpty { targets.append(String(decoding: item, as: UTF8.self)) }
            piece.removeAll(keepingCapacity: true)
        }
        for byte in text {
            if byte == .doubleQuote { quoted.toggle() }
            if byte == .comma, !quoted {
                flush()
            } else {
                piece.append(byte)
            }
        }
        flush()
        return targets
    }
}
