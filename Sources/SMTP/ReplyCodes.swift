/// RFC 3463 enhanced status code `class.subject.detail`.
public struct EnhancedStatusCode: Sendable, Equatable, CustomStringConvertible {
    public var klass: UInt8
    public var subject: UInt16
    public var detail: UInt16
    public init(_ klass: UInt8, _ subject: UInt16, _ detail: UInt16) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }
    public var description: String { "\(klass).\(subject).\(detail)" }
}

/// One SMTP reply: code, enhanced status code, text lines (RFC 5321 §4.2).
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var enhanced: EnhancedStatusCode?
    public var lines: [String]

    public init(_ code: Int, _ enhanced: EnhancedStatusCode?, _ lines: [String]) {
        self.code = code
        self.enhanced = enhanced
        self.lines = lines.isEmpty ? [""] : lines
    }

    public init(_ code: Int, _ enhanced: EnhancedStatusCode?, _ text: String) {
        self.init(code, enhanced, [text])
    }

    /// 2xx/3xx/4xx/5xx class.
    public var isPositive: Bool { code < 400 }
    public var isTransientFailure: Bool { code >= 400 && code < 500 }
    public var isPermanentFailure: Bool { code >= 500 }

    /// Wire form: `CODE-text` for all lines but the last, `CODE text` for the last, CRLF after
    /// each (RFC 5321 §4.2.1). Enhanced codes are written only when `enhanced` is true
    /// (RFC 2034 §3: only after ENHANCEDSTATUSCODES was advertised; Courier does not).
    public func encoded(enhanced withEnhanced: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            out.append(contentsOf: String(code).utf8)
            out.append(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if withEnhanced, let enhanced {
                out.append(contentsOf: enhanced.description.utf8)
                out.append(UInt8(ascii: " "))
            }
            // A reply line never carries a bare CR or LF of its own.
            for byte in line.utf8 where byte != 13 && byte != 10 { out.append(byte) }
            out.append(13)
            out.append(10)
        }
        return out
    }

    public var description: String {
        lines.enumerated().map { "\(code)\($0.offset == lines.count - 1 ? " " : "-")\($0.element)" }.joined(separator: " / ")
    }
}

/// Every reply the server sends, in one table (STYLE.md "Every reply in one table").
/// Texts and codes follow Courier's courieresmtpd and submit (spec/mta.md §2.4, §2.5, §2.12);
/// Courier deliberately uses nonstandard middle digits, only the first digit matters to
/// clients (RFC 5321 §4.2.1). Enhanced codes are RFC 3463.
public enum Replies {
    // MARK: connection (RFC 5321 §4.3.1)
    /// `220 <me> ESMTP` (spec/mta.md §2.3 when `esmtpgreeting` is absent).
    public static func greeting(_ me: String) -> SMTPReply { SMTPReply(220, nil, "\(me) ESMTP") }
    /// RFC 5321 §4.2.2: 421 service not available, closing.
    public static let tooManyConnections = SMTPReply(421, EnhancedStatusCode(4, 7, 0), "Too many connections, try again later.")
    public static let tooManyConnectionsFromYou = SMTPReply(421, EnhancedStatusCode(4, 7, 0), "Too many connections from your IP address, try again later.")
    public static let shuttingDown = SMTPReply(421, EnhancedStatusCode(4, 3, 2), "Service shutting down, try again later.")
    public static let timeout = SMTPReply(421, EnhancedStatusCode(4, 4, 2), "Timeout, closing connection.")
    /// `221 Bye.` (QUIT).
    public static let bye = SMTPReply(221, EnhancedStatusCode(2, 0, 0), "Bye.")

    // MARK: HELO/EHLO (spec/mta.md §2.4)
    public static func helo(_ me: String) -> SMTPReply { SMTPReply(250, nil, "\(me) Ok.") }
    public static func ehlo(_ me: String, extensions: [String]) -> SMTPReply {
        SMTPReply(250, nil, ["\(me) Ok."] + extensions)
    }

    // MARK: generic (spec/mta.md §2.5)
    /// `250 Ok` (NOOP, RSET).
    public static let ok = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
    /// `250 Ok.` (MAIL, RCPT).
    public static let senderOk = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok.")
    public static let recipientOk = SMTPReply(250, EnhancedStatusCode(2, 1, 5), "Ok.")
    /// `354 Ok.` (DATA).
    public static let startData = SMTPReply(354, nil, "Ok.")
    /// `250 Ok. <id>` after the queue made the message durable (spec/mta.md §2.8).
    public static func accepted(_ id: String) -> SMTPReply { SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok. \(id)") }
    /// Courier answers every unknown or out-of-sequence command so (spec/mta.md §2.5).
    public static let commandError = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "ESMTP command error")
    public static let heloFirst = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "Polite people say HELO first")
    public static let syntaxError = SMTPReply(554, EnhancedStatusCode(5, 5, 2), "Syntax error - your mail software violates RFC 821.")
    public static let lineTooLong = SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Line too long.")
    public static let invalidAddress = SMTPReply(500, EnhancedStatusCode(5, 1, 3), "Invalid address")
    public static let addressSyntax = SMTPReply(513, EnhancedStatusCode(5, 1, 3), "Syntax error.")
    public static let senderSyntax = SMTPReply(517, EnhancedStatusCode(5, 1, 7), "Syntax error.")
    public static let parameterSyntax = SMTPReply(501, EnhancedStatusCode(5, 5, 4), "Invalid parameter.")
    /// RFC 6531 §3.4: non-ASCII address without SMTPUTF8.
    public static let needsSMTPUTF8 = SMTPReply(553, EnhancedStatusCode(5, 6, 7), "Non-ASCII address requires SMTPUTF8.")

    // MARK: MAIL (spec/mta.md §2.6)
    public static let sizeTooBig = SMTPReply(534, EnhancedStatusCode(5, 3, 4), "SIZE=Message too big.")

    // MARK: RCPT (spec/mta.md §2.12 RCPT stage)
    public static let relayingDenied = SMTPReply(513, EnhancedStatusCode(5, 7, 1), "Relaying denied.")
    /// Submission port: relaying needs AUTH (RFC 4954 §6: 530 5.7.0).
    public static let authenticationRequired = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Authentication required.")
    public static func unknownUser(_ address: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 1, 1), "User <\(address)> unknown")
    }
    public static let lookupUnavailable = SMTPReply(451, EnhancedStatusCode(4, 4, 3), "Service temporarily unavailable.")
    public static let tooManyRecipients = SMTPReply(431, EnhancedStatusCode(4, 5, 3), "Too many recipients.")
    /// `bofh maxrcpts N hard`.
    public static let tooManyRecipientsHard = SMTPReply(531, EnhancedStatusCode(5, 5, 3), "Too many recipients.")
    /// More than 100 `Received:` fields (spec/mta.md §2.12 DATA stage).
    public static let routingLoop = SMTPReply(546, EnhancedStatusCode(5, 4, 6), "Routing loop detected -- too many Received: headers.")
    /// The header section is over `BOFHHEADERLIMIT` bytes or has 500 fields or more.
    public static let headerTooBig = SMTPReply(534, EnhancedStatusCode(5, 3, 4), "Message header size exceeds policy limit.")
    /// spec/mta.md §4.10: the address is on the backscatter suppression list after a failure /
    /// a deferral of mail to it.
    public static let addressUnavailable = SMTPReply(556, EnhancedStatusCode(5, 2, 1), "Address unavailable.")
    public static let addressTemporarilyUnavailable = SMTPReply(456, EnhancedStatusCode(4, 2, 1), "Address temporarily unavailable.")
    /// A `bofh spamtrap` address was among the recipients (spec/mta.md §2.12 DATA stage).
    public static let spamRefused = SMTPReply(550, EnhancedStatusCode(5, 7, 1), "Spam refused.")
    /// `bofh badfrom`.
    public static func senderRejected(_ address: String) -> SMTPReply {
        SMTPReply(517, EnhancedStatusCode(5, 7, 1), "Sender rejected: \(address)")
    }
    /// `BLOCK` (smtpaccess or a DNS block list): its text, with 511 unless it starts with a
    /// 4xx/5xx code (spec/mta.md §2.12 RCPT step 6).
    public static func blocked(_ text: String) -> SMTPReply {
        let bytes = Array(text.utf8)
        if bytes.count >= 4, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (400...599).contains(code),
           bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-") {
            return SMTPReply(code, EnhancedStatusCode(code >= 500 ? 5 : 4, 7, 1), String(decoding: bytes[4...], as: UTF8.self))
        }
        return SMTPReply(511, EnhancedStatusCode(5, 7, 1), text)
    }
    public static let undeliverable = SMTPReply(511, EnhancedStatusCode(5, 1, 2), "Undeliverable address.")

    // MARK: DATA (spec/mta.md §2.8, §2.12 DATA stage)
    public static func messageTooBig(_ size: Int, limit: Int) -> SMTPReply {
        SMTPReply(523, EnhancedStatusCode(5, 3, 4), "Message length (\(size) bytes) exceeds administrative limit(\(limit)).")
    }
    public static let dataLineTooLong = SMTPReply(554, EnhancedStatusCode(5, 6, 0), "Message line too long.")
    public static let mailSystemFull = SMTPReply(431, EnhancedStatusCode(4, 3, 1), "Mail system full.")
    public static let serviceUnavailable = SMTPReply(432, EnhancedStatusCode(4, 3, 0), "Service temporarily unavailable.")
    public static let submitFailed = SMTPReply(451, EnhancedStatusCode(4, 3, 0), "Unable to submit message - service temporarily unavailable.")

    // MARK: BDAT (RFC 3030)
    /// RFC 3030 §3, RFC 5321 §4.2.2: BDAT outside a transaction with recipients, DATA
    /// between chunks.
    public static let badSequence = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Bad sequence of commands.")
    /// RFC 3030 §2: a chunk without LAST was read.
    public static func chunkReceived(_ octets: Int) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 0, 0), "\(octets) octets received.")
    }
    /// RFC 3030 §2 (its examples) and RFC 5321 §4.2.3: 552 for a message over the size limit.
    public static func chunkTooBig(_ size: Int, limit: Int) -> SMTPReply {
        SMTPReply(552, EnhancedStatusCode(5, 3, 4), "Message length (\(size) bytes) exceeds administrative limit(\(limit)).")
    }
    /// A line right after a BDAT chunk was no command: the chunk size lied (the connection ends).
    public static let chunkOutOfSync = SMTPReply(500, EnhancedStatusCode(5, 5, 2), "BDAT chunk size does not match the data, closing.")

    // MARK: VRFY/EXPN (spec/mta.md §2.5)
    public static let vrfyDisabled = SMTPReply(252, EnhancedStatusCode(2, 5, 2), "VRFY disabled")
    public static let expnDisabled = SMTPReply(252, EnhancedStatusCode(2, 5, 2), "EXPN disabled")
    public static func verified(_ address: String) -> SMTPReply { SMTPReply(250, EnhancedStatusCode(2, 1, 5), "<\(address)>") }

    // MARK: STARTTLS (RFC 3207 §4)
    public static let startTLS = SMTPReply(220, EnhancedStatusCode(2, 0, 0), "Ok")
    public static let tlsNotAvailable = SMTPReply(540, EnhancedStatusCode(5, 7, 0), "TLS not available.")
    public static let tlsRequired = SMTPReply(400, EnhancedStatusCode(4, 7, 0), "STARTTLS is required first.")

    // MARK: AUTH (RFC 4954, spec/mta.md §2.9)
    public static let authRejected = SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Authentication rejected")
    public static let authRequiredFirst = SMTPReply(535, EnhancedStatusCode(5, 7, 0), "Authentication required.")

    // MARK: HELP (RFC 5321 §4.1.1.8)
    public static let help = SMTPReply(214, EnhancedStatusCode(2, 0, 0), "See RFC 5321 and https://www.courier-mta.org/")
}
