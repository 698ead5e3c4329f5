/// Why a command line was refused; each maps to one reply of `Replies`.
public enum SMTPCommandError: Error, Sendable, Equatable {
    /// Unknown verb, or a known verb with missing/extra arguments where Courier says
    /// `502 ESMTP command error`.
    case unknownCommand
    /// MAIL/RCPT path syntax (`554 Syntax error - … RFC 821.`).
    case pathSyntax
    /// A MAIL/RCPT parameter we know, with a bad value (`501`).
    case parameterSyntax
    /// Path or its parts over RFC 5321 §4.5.3.1 limits.
    case pathTooLong
    /// A BDAT line whose chunk size cannot be read (not a number, too many digits, junk after
    /// it): where its chunk ends is unknown.
    case chunkSyntax

    public var reply: SMTPReply {
        switch self {
        case .unknownCommand: Replies.commandError
        case .pathSyntax: Replies.syntaxError
        case .parameterSyntax: Replies.parameterSyntax
        case .pathTooLong: SMTPReply(501, EnhancedStatusCode(5, 1, 3), "Path too long.")
        case .chunkSyntax: SMTPReply(501, EnhancedStatusCode(5, 5, 4), "Malformed BDAT command.")
        }
    }
}

/// Parses one command line (without its line end) into an `SMTPCommand`. Pure; the
/// public entry point for fuzzing is `parse(_:)`.
public enum SMTPCommandParser {
    /// Parses a command line; the CR LF (or LF) must already be removed.
    public static func parse(_ line: ArraySlice<UInt8>, limits: SMTPLimits = SMTPLimits()) -> Result<SMTPCommand, SMTPCommandError> {
        // spec/mta.md §2.3: trailing whitespace is removed before dispatch.
        var end = line.endIndex
        while end > line.startIndex, line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t") || line[end - 1] == 13 {
            end -= 1
        }
        let trimmed = line[line.startIndex..<end]
        var verbEnd = trimmed.startIndex
        while verbEnd < trimmed.endIndex, trimmed[verbEnd] != UInt8(ascii: " "), trimmed[verbEnd] != UInt8(ascii: ":") {
            verbEnd += 1
        }
        guard verbEnd - trimmed.startIndex <= 8 else { return .failure(.unknownCommand) }
        let verbText = String(decoding: trimmed[trimmed.startIndex..<verbEnd].map(asciiUpper), as: UTF8.self)
        guard let verb = SMTPVerb(rawValue: verbText) else { return .failure(.unknownCommand) }
        var rest = trimmed[verbEnd...]
        // Arguments start after one or more spaces (MAIL/RCPT: the colon follows directly).
        let hadSpace = rest.first == UInt8(ascii: " ")
        while rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
        switch verb {
        case .ehlo, .helo:
            // spec/mta.md §2.4: the argument must be non-empty.
            guard hadSpace, !rest.isEmpty, let name = printable(rest) else { return .failure(.unknownCommand) }
            return .success(verb == .ehlo ? .ehlo(name) : .helo(name))
        case .mail:
            return parseMail(trimmed[verbEnd...], limits: limits)
        case .rcpt:
            return parseRcpt(trimmed[verbEnd...], limits: limits)
        case .data, .rset, .quit, .startTLS:
            guard rest.isEmpty else { return .failure(.unknownCommand) }
            switch verb {
            case .data: return .success(.data)
            case .rset: return .success(.rset)
            case .quit: return .success(.quit)
            default: return .success(.startTLS)
            }
        case .noop:
            // RFC 5321 §4.1.1.9: NOOP may carry a string, ignored.
            return .success(.noop)
        case .vrfy, .expn:
            guard hadSpace, !rest.isEmpty, let argument = printable(rest) else { return .failure(.unknownCommand) }
            return .success(verb == .vrfy ? .vrfy(argument) : .expn(argument))
        case .help:
            return .success(.help(printable(rest) ?? ""))
        case .bdat:
            // RFC 3030 §2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF
            let parts = rest.split(separator: UInt8(ascii: " "))
            guard parts.count == 1 || parts.count == 2, let size = decimal(parts[0]) else { return .failure(.chunkSyntax) }
            if parts.count == 2 {
                guard parts[1].map(asciiUpper).elementsEqual("LAST".utf8) else { return .failure(.chunkSyntax) }
            }
            return .success(.bdat(size: size, last: parts.count == 2))
        case .auth:
            // RFC 4954 §4: AUTH mechanism [SP initial-response]
            let parts = rest.split(separator: UInt8(ascii: " "))
            guard parts.count == 1 || parts.count == 2,
                  parts[0].count <= 20, parts[0].allSatisfy({ SMTPByteClass.isKeywordByte($0) || $0 == UInt8(ascii: "_") }) else {
                return .failure(.unknownCommand)
            }
            let mechanism = String(decoding: parts[0].map(asciiUpper), as: UTF8.self)
            let initial = parts.count == 2 ? printable(parts[1]) : nil
            if parts.count == 2, initial == nil { return .failure(.unknownCommand) }
            return .success(.auth(mechanism: mechanism, initialResponse: initial))
        }
    }

    /// `mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF` (RFC 5321 §4.1.1.2).
    static func parseMail(_ afterVerb: ArraySlice<UInt8>, limits: SMTPLimits) -> Result<SMTPCommand, SMTPCommandError> {
        guard let pathStart = afterKeyword(afterVerb, "FROM") else { return .failure(.pathSyntax) }
        let path: SMTPMailbox?
        let pathEnd: Int
        do {
            (path, pathEnd) = try SMTPPathParser.parsePath(pathStart, limits: limits, allowNull: true)
        } catch {
            return .failure(error == .syntax ? .pathSyntax : .pathTooLong)
        }
        var parameters = MailParameters()
        for (keyword, value) in splitParameters(pathStart[pathEnd...]) {
            switch keyword {
            case "SIZE":
                // RFC 1870 §6: size-value = 1*20DIGIT
                guard let value, let size = decimal(value) else { return .failure(.parameterSyntax) }
                parameters.size = size
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: upperString(value)) else { return .failure(.parameterSyntax) }
                parameters.body = body
            case "RET":
                guard let value, let ret = DSNRet(rawValue: upperString(value)) else { return .failure(.parameterSyntax) }
                parameters.ret = ret
            case "ENVID":
                // RFC 3461 §4.4: at most 100 characters.
                guard let value, value.count <= 100, let decoded = XText.decode(value),
                      let text = printable(decoded[...]) else { return .failure(.parameterSyntax) }
                parameters.envelopeID = text
            case "SMTPUTF8":
                guard value == nil else { return .failure(.parameterSyntax) }
                parameters.smtputf8 = true
            case "VERP", "XVERP":
                parameters.verp = true
            case "SECURITY":
                guard let value else { return .failure(.parameterSyntax) }
                switch upperString(value) {
                case "STARTTLS": parameters.securityStartTLS = true
                case "NONE": break
                default: return .failure(.parameterSyntax)
                }
            case "AUTH":
                guard let value, let decoded = XText.decode(value) else { return .failure(.parameterSyntax) }
                parameters.auth = printable(decoded[...])
            case "":
                return .failure(.pathSyntax)
            default:
                // spec/mta.md §2.6: Courier ignores keywords it does not know (EXDATA, …).
                break
            }
        }
        return .success(.mail(path.map { .mailbox($0) } ?? .null, parameters))
    }

    /// `rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters] CRLF`
    static func parseRcpt(_ afterVerb: ArraySlice<UInt8>, limits: SMTPLimits) -> Result<SMTPCommand, SMTPCommandError> {
        guard let pathStart = afterKeyword(afterVerb, "TO") else { return .failure(.pathSyntax) }
        let path: SMTPMailbox?
        let pathEnd: Int
        do {
            (path, pathEnd) = try SMTPPathParser.parsePath(pathStart, limits: limits, allowNull: false)
        } catch {
            return .failure(error == .syntax ? .pathSyntax : .pathTooLong)
        }
        guard let path else { return .failure(.pathSyntax) }
        var parameters = RcptParameters()
        for (keyword, value) in splitParameters(pathStart[pathEnd...]) {
            switch keyword {
            case "NOTIFY":
                // RFC 3461 §4.1: "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )
                guard let value else { return .failure(.parameterSyntax) }
                var notify = RcptParameters.Notify()
                for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    switch upperString(item) {
                    case "NEVER": notify.insert(.never)
                    case "SUCCESS": notify.insert(.success)
                    case "FAILURE": notify.insert(.failure)
                    case "DELAY": notify.insert(.delay)
                    default: return .failure(.parameterSyntax)
                    }
                }
                guard !notify.contains(.never) || notify == .never else { return .failure(.parameterSyntax) }
                parameters.notify = notify
            case "ORCPT":
                // RFC 3461 §4.2: ORCPT=addr-type ";" xtext, at most 500 characters.
                guard let value, value.count <= 500, let semicolon = value.firstIndex(of: UInt8(ascii: ";")),
                      semicolon > value.startIndex,
                      let decoded = XText.decode(value[(semicolon + 1)...]),
                      let type = printable(value[..<semicolon]), let text = String(validating: decoded, as: UTF8.self) else {
                    return .failure(.parameterSyntax)
                }
                parameters.originalRecipient = type + ";" + text
            case "":
                return .failure(.pathSyntax)
            default:
                break
            }
        }
        return .success(.rcpt(path, parameters))
    }

    /// Matches `FROM:` / `TO:` (case-insensitive) after the verb, then optional spaces
    /// (tolerated: many clients send `MAIL FROM: <a>`).
    static func afterKeyword(_ bytes: ArraySlice<UInt8>, _ keyword: String) -> ArraySlice<UInt8>? {
        var rest = bytes
        guard rest.first == UInt8(ascii: " ") else { return nil }
        rest = rest.dropFirst()
        for expected in keyword.utf8 {
            guard let byte = rest.first, asciiUpper(byte) == expected else { return nil }
            rest = rest.dropFirst()
        }
        guard rest.first == UInt8(ascii: ":") else { return nil }
        rest = rest.dropFirst()
        while rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
        return rest
    }

    /// `esmtp-param = esmtp-keyword ["=" esmtp-value]`, separated by SP. A keyword that is not
    /// a keyword yields "" so the caller can refuse the line.
    static func splitParameters(_ bytes: ArraySlice<UInt8>) -> [(String, ArraySlice<UInt8>?)] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.first == UInt8(ascii: " ") else { return [("", nil)] }
        var result: [(String, ArraySlice<UInt8>?)] = []
        for item in bytes.split(separator: UInt8(ascii: " ")) {
            let equals = item.firstIndex(of: UInt8(ascii: "="))
            let keywordBytes = item[..<(equals ?? item.endIndex)]
            guard !keywordBytes.isEmpty, keywordBytes.count <= 32, keywordBytes.allSatisfy(SMTPByteClass.isKeywordByte) else {
                result.append(("", nil))
                continue
            }
            var value: ArraySlice<UInt8>?
            if let equals {
                // esmtp-value = 1*(%d33-60 / %d62-126) (RFC 6531 §3.3 adds UTF-8)
                let raw = item[(equals + 1)...]
                guard !raw.isEmpty, raw.allSatisfy({ ($0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: "=")) || $0 >= 0x80 }) else {
                    result.append(("", nil))
                    continue
                }
                value = raw
            }
            result.append((upperString(keywordBytes), value))
        }
        return result
    }

    static func asciiUpper(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
    }

    static func upperString(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map(asciiUpper), as: UTF8.self)
    }

    /// Decimal without sign, at most 18 digits (no overflow).
    static func decimal(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Valid UTF-8 without control characters, as a String.
    static func printable(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.contains(where: { $0 < 32 || $0 == 127 }) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
