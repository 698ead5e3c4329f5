/// IMAP keywords of the messages of one folder, in the format of `courierimapkeywords/:list`
/// (access.md §1.5):
///
///     MyKeyword          <- the dictionary, one keyword per line
///     $Junk
///                        <- an empty line
///     <basename>:1 0     <- per message with keywords: 0-based dictionary indexes
///
/// Keywords compare case-insensitively (ASCII); the first spelling seen is kept.
public struct KeywordList: Hashable, Sendable {
    /// Base name → keywords (each set non-empty).
    public var messages: [String: [String]]

    public init(messages: [String: [String]] = [:]) {
        self.messages = messages.filter { !$0.value.isEmpty }
    }

    /// Is `keyword` allowed? Not empty, no control characters, space, `(` `)` `{` `%` `*` `"`
    /// `\` `]` (RFC 3501 atom-specials, as Courier forbids), and not a system flag (`\Seen`).
    public static func isValidKeyword(_ keyword: String) -> Bool {
        let bytes = Array(keyword.utf8)
        if bytes.isEmpty || bytes.count > 1000 { return false }
        for b in bytes {
            if b <= 0x20 || b == 0x7F { return false }
            if Array("(){%*\"\\]".utf8).contains(b) { return false }
        }
        return true
    }

    static func folded(_ s: String) -> [UInt8] {
        s.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }
    }

    /// `keywords` with case-insensitive duplicates and invalid keywords removed, sorted.
    public static func normalized(_ keywords: [String]) -> [String] {
        var seen = Set<[UInt8]>()
        var out: [String] = []
        for k in keywords where isValidKeyword(k) {
            if seen.insert(folded(k)).inserted { out.append(k) }
        }
        return out.sorted { folded($0).lexicographicallyPrecedes(folded($1)) }
    }

    /// Parses `:list` (the fuzz entry point). Unknown indexes and bad keywords are ignored.
    public static func parse(_ bytes: [UInt8]) -> KeywordList {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)[...]
        var dictionary: [String] = []
        while let line = lines.first {
            lines = lines.dropFirst()
            if line.isEmpty { break }
            dictionary.append(String(decoding: line, as: UTF8.self))
        }
        var messages: [String: [String]] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { continue }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            var keywords: [String] = []
            var i = colon + 1
            while i < line.endIndex {
                guard line[i] >= 0x30 && line[i] <= 0x39, let (n, used) = NumberText.parseSigned(line[i...]) else {
                    i += 1
                    continue
                }
                i += used
                if n >= 0 && n < Int64(dictionary.count) { keywords.append(dictionary[Int(n)]) }
            }
            let normalized = normalized(keywords)
            if !normalized.isEmpty { messages[name] = normalized }
        }
        return KeywordList(messages: messages)
    }

    /// The `:list` bytes: the dictionary in sorted order, an empty line, then the messages
    /// sorted by base name.
    public func formatted() -> [UInt8] {
        var dictionary: [String] = []
        var index: [[UInt8]: Int] = [:]
        let names = messages.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        // The spelling of the first message (in name order) that uses a keyword is kept.
        for name in names {
            for k in messages[name] ?? [] where index[Self.folded(k)] == nil {
                index[Self.folded(k)] = -1
                dictionary.append(k)
            }
        }
        dictionary.sort { Self.folded($0).lexicographicallyPrecedes(Self.folded($1)) }
        for (i, k) in dictionary.enumerated() { index[Self.folded(k)] = i }
        var out: [UInt8] = []
        for k in dictionary {
            out.append(contentsOf: k.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(UInt8(ascii: "\n"))
        for name in names {
            guard let keywords = messages[name], !keywords.isEmpty else { continue }
            let numbers = keywords.compactMap { index[Self.folded($0)] }.sorted()
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: numbers.map(String.init).joined(separator: " ").utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// The content of an update file: the message's complete keyword set, one per line.
    public static func updateFile(_ keywords: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for k in normalized(keywords) {
            out.append(contentsOf: k.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Parses an update file.
    public static func parseUpdateFile(_ bytes: [UInt8]) -> [String] {
        normalized(bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) })
    }
}
