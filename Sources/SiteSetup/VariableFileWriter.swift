/// Writes a Courier variable file the way Courier ships them (sysconftool style): a header
/// comment, then for each setting a `##NAME: VAR:VERSION` marker, a comment block explaining
/// it, and the `VAR=value` line. The output is valid `sh` and parses with
/// `MailConfig.VariableFileParser`.
struct VariableFileWriter {
    private var text = ""

    /// Starts the file with `title` (file name and what it configures) and `lines` of introduction.
    init(title: String, about lines: [String]) {
        text += "##VERSION: courier-swift 1\n#\n# \(title)\n#\n"
        text += "# Lines that begin with ## mark each setting for upgrades; keep them as they are.\n"
        text += "# Values follow shell rules: quote a value that contains blanks.\n"
        if !lines.isEmpty {
            text += "#\n"
            for line in lines { text += line.isEmpty ? "#\n" : "# \(line)\n" }
        }
        text += "\n"
    }

    /// One setting. `commentedOut` writes the assignment as a comment (an example).
    mutating func setting(_ name: String, _ value: String, version: Int = 0, doc: [String], commentedOut: Bool = false) {
        text += "##NAME: \(name):\(version)\n#\n"
        for line in doc { text += line.isEmpty ? "#\n" : "# \(line)\n" }
        text += "\n"
        text += (commentedOut ? "# " : "") + "\(name)=\(Self.quote(value))\n\n"
    }

    /// One setting whose value is written exactly as given (already quoted shell text, e.g.
    /// `"$IMAP_CAPABILITY AUTH=PLAIN"` to expand an earlier setting).
    mutating func setting(_ name: String, shellText: String, version: Int = 0, doc: [String]) {
        text += "##NAME: \(name):\(version)\n#\n"
        for line in doc { text += line.isEmpty ? "#\n" : "# \(line)\n" }
        text += "\n\(name)=\(shellText)\n\n"
    }

    var contents: String { text }

    /// A value as the shell reads it back unchanged: bare when it is plain, else in double
    /// quotes with `"`, `\`, `$` and `` ` `` escaped.
    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "=")
        }
        if plain { return value }
        var quoted = "\""
        for character in value {
            if character == "\"" || character == "\\" || character == "$" || character == "`" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
