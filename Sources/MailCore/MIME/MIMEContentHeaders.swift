/// Interprets one complete (unfolded) header of a MIME entity: `Mime-Version`,
/// `Content-Type`, `Content-Transfer-Encoding`, `Content-Disposition`, `Content-ID`,
/// `Content-Description`, `Content-Language`, `Content-MD5` (RFC 2045 §4-§8, RFC 2183).
/// Other headers are ignored. Mirrors Courier's lenient token-based reading.
enum MIMEContentHeaders {
    static let interestingNames: [[UInt8]] = [
        "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
        "content-id", "content-description", "content-language", "content-md5",
    ].map { Array($0.utf8) }

    /// Decides from the start of a header whether it can be one we interpret:
    /// true/false when known, nil when more text is needed.
    static func mayBeInteresting(_ prefix: [UInt8]) -> Bool? {
        let tokens = MIMEHeaderTokenizer.tokenize(prefix)
        guard tokens.count >= 2 else { return nil }
        if tokens[0].kind != 0 || tokens[1].kind != UInt8(ascii: ":") { return false }
        var name = Array(prefix[tokens[0].range])
        MIMEHeaderTokenizer.asciiLowercase(&name)
        return interestingNames.contains(name)
    }

    /// Applies header `text` (folded lines already joined) to `entities[index]`.
    static func apply(_ text: [UInt8], to entities: inout [MIMEEntity], index: Int, rootErrors: inout MIMEErrors) {
        let tokens = MIMEHeaderTokenizer.tokenize(text)
        guard tokens.count >= 2, tokens[0].kind == 0, tokens[1].kind == UInt8(ascii: ":") else { return }
        var name = Array(text[tokens[0].range])
        MIMEHeaderTokenizer.asciiLowercase(&name)
        let rest = tokens[2...]
        switch String(decoding: name, as: UTF8.self) {
        case "mime-version":
            entities[index].mimeVersion = MIMEHeaderTokenizer.paste(text, rest)
        case "content-type":
            parseParameterized(text, tokens) { type in
                entities[index].contentType = type
            } parameter: { pname, vtokens in
                let isCharset = pname == Array("charset".utf8)
                let value = MIMEHeaderTokenizer.paste(text, vtokens, lowercase: isCharset)
                entities[index].contentTypeParameters.set(pname, value)
                if pname == Array("boundary".utf8) {
                    let lowered = MIMEHeaderTokenizer.paste(text, vtokens, lowercase: true)
                    entities[index].boundary = lowered
                    checkAmbiguousBoundary(lowered, entities: entities, index: index, rootErrors: &rootErrors)
                }
            }
        case "content-transfer-encoding":
            let value = MIMEHeaderTokenizer.paste(text, rest, lowercase: true)
            entities[index].transferEncoding = value
            if value == Array("8bit".utf8) { entities[index].declares8bit = true }
        case "content-disposition":
            parseParameterized(text, tokens) { type in
                entities[index].disposition = type
            } parameter: { pname, vtokens in
                entities[index].dispositionParameters.set(pname, MIMEHeaderTokenizer.paste(text, vtokens))
            }
        case "content-id":
            if let id = MIMEContentID.firstAddress(text, Array(rest)) {
                entities[index].contentID = id
            }
        case "content-description":
            if let v = valueAfterColon(text) { entities[index].contentDescription = v }
        case "content-language":
            if let v = valueAfterColon(text) { entities[index].contentLanguage = v }
        case "content-md5":
            if let v = valueAfterColon(text) { entities[index].contentMD5 = v }
        default:
            break
        }
    }

    /// The raw text after the first `:`, leading whitespace skipped; nil when empty.
    static func valueAfterColon(_ text: [UInt8]) -> [UInt8]? {
        guard var i = text.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        i += 1
        while i < text.count && MIMEHeaderTokenizer.isSpace(text[i]) { i += 1 }
        var end = text.count
        if let nul = text[i...].firstIndex(of: 0) { end = nul }
        return i < end ? Array(text[i..<end]) : nil
    }

    /// Courier's `parse_content_header`: everything up to the first `;` is the value
    /// (lowercased); then `name=value` pairs separated by `;`. The name is a single token,
    /// comments may precede `=`, and (reformime's loose mode) a quoted value ends the
    /// parameter at its closing quote.
    static func parseParameterized(_ text: [UInt8], _ tokens: [MIMEHeaderToken],
                                   type: (_ value: [UInt8]) -> Void,
                                   parameter: (_ name: [UInt8], _ value: ArraySlice<MIMEHeaderToken>) -> Void) {
        let semicolon = UInt8(ascii: ";")
        var start = 2
        while start < tokens.count && tokens[start].kind != semicolon { start += 1 }
        type(MIMEHeaderTokenizer.paste(text, tokens[2..<start], lowercase: true))
        if start < tokens.count { start += 1 }
        while start < tokens.count {
            var i = start
            while i < tokens.count && tokens[i].kind != semicolon { i += 1 }
            var j = start
            if j < i {
                j += 1
                while j < i && tokens[j].kind == MIMEHeaderToken.comment { j += 1 }
                if j < i && tokens[j].kind == UInt8(ascii: "=") {
                    j += 1
                    if j < i && tokens[j].kind == MIMEHeaderToken.quoted { i = j + 1 }
                    let name = MIMEHeaderTokenizer.paste(text, tokens[start..<(start + 1)], lowercase: true)
                    parameter(name, tokens[j..<i])
                }
            }
            if i < tokens.count { i += 1 }
            start = i
        }
    }

    /// RFC 2046 §5.1.1 implementor's note: a boundary must not be a prefix of an
    /// enclosing one (or the reverse); Courier flags the top-level entity.
    static func checkAmbiguousBoundary(_ b: [UInt8], entities: [MIMEEntity], index: Int, rootErrors: inout MIMEErrors) {
        var q = entities[index].parent
        var guardCount = 0
        while let qi = q, guardCount < 10_000 {
            guardCount += 1
            if let ob = entities[qi].boundary {
                let n = min(ob.count, b.count)
                if ob[0..<n] == b[0..<n] {
                    rootErrors.insert(.ambiguousBoundary)
                    return
                }
            }
            q = entities[qi].parent
        }
    }
}
