/// One SMTP reply as a client reads it (RFC 5321 §4.2): a three-digit code and its text lines.
public struct ClientReply: Sendable, Equatable {
    public var code: Int
    /// The text after the code and separator of each line, without CRLF.
    public var lines: [[UInt8]]

    public init(code: Int, lines: [[UInt8]]) {
        self.code = code
        self.lines = lines
    }

    public init(_ code: Int, _ text: String) {
        self.init(code: code, lines: [Array(text.utf8)])
    }

    /// RFC 5321 §4.2.1: the first digit says how the command went.
    public var isPositive: Bool { code >= 200 && code < 300 }
    public var isIntermediate: Bool { code >= 300 && code < 400 }
    public var isPermanentFailure: Bool { code >= 500 && code < 600 }

    /// The longest `text`: a server may send 200 lines of 4 KiB (the parser's bounds), and this
    /// text goes into a log line per recipient and into reports.
    public static let maxTextBytes = 2048

    /// The reply as a DSN `Diagnostic-Code: smtp; …` value and log text: `550 5.1.1 No such user`,
    /// multi-line replies joined with spaces; at most `maxTextBytes` (cut at a character).
    public var text: String {
        var joined = ""
        for line in lines {
            if !joined.isEmpty { joined += " " }
            joined += "\(code) " + String(decoding: line, as: UTF8.self)
            if joined.utf8.count >= Self.maxTextBytes { break }
        }
        guard joined.utf8.count > Self.maxTextBytes else { return joined }
        var cut = ""
        var bytes = 0
        for character in joined {
            bytes += character.utf8.count
            if bytes > Self.maxTextBytes { break }
            cut.append(character)
        }
        return cut
    }
}

/// Splits the bytes a server sends into replies (RFC 5321 §4.2.1 multi-line form `250-…`
/// continued up to `250 …`). Bounded: over-long lines are cut at `maxLineLength` and a reply
/// of more than `maxLines` lines, or a line that does not start with a code, is a protocol error.
public struct ClientReplyParser: Sendable {
    /// RFC 5321 §4.5.3.1.5 says 512 octets per reply line; servers exceed it, so allow more.
    public static let maxLineLength = 4096
    public static let maxLines = 200

    public enum ParseError: Error, Equatable, Sendable {
        case malformed
        case tooManyLines
    }

    private var line: [UInt8] = []
    private var pendingLines: [[UInt8]] = []
    private var pendingCode: Int?
    private var truncating = false

    public init() {}

    /// Feeds bytes; returns the replies completed by them.
    public mutating func feed<C: Collection>(_ bytes: C) throws(ParseError) -> [ClientReply] where C.Element == UInt8 {
        var replies: [ClientReply] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                // A remote reply goes into logs and DSNs: no control bytes survive (a bare CR
                // inside a line included).
                let complete = line.filter { $0 >= 0x20 && $0 != 0x7F }
                line.removeAll(keepingCapacity: true)
                truncating = false
                if let reply = try take(complete) { replies.append(reply) }
            } else if line.count < Self.maxLineLength {
                line.append(byte)
            } else {
                truncating = true
            }
        }
        return replies
    }

    /// True when part of a reply has been read (a connection closed now was cut mid-reply).
    public var isMidReply: Bool { !line.isEmpty || !pendingLines.isEmpty }

    private mutating func take(_ raw: [UInt8]) throws(ParseError) -> ClientReply? {
        guard raw.count >= 3,
              let code = Self.code(raw[0], raw[1], raw[2]) else { throw .malformed }
        if let pendingCode, pendingCode != code { throw .malformed }
        var separator = UInt8(ascii: " ")
        if raw.count > 3 {
            separator = raw[3]
            guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else { throw .malformed }
        }
        let text = raw.count > 4 ? Array(raw[4...]) : []
        pendingLines.append(text)
        guard pendingLines.count <= Self.maxLines else { throw .tooManyLines }
        if separator == UInt8(ascii: "-") {
            pendingCode = code
            return nil
        }
        let reply = ClientReply(code: code, lines: pendingLines)
        pendingLines = []
        pendingCode = nil
        return reply
    }

    private static func code(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        guard a >= UInt8(ascii: "2"), a <= UInt8(ascii: "5"),
              b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9"),
              c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
        return Int(a - 48) * 100 + Int(b - 48) * 10 + Int(c - 48)
    }
}
