import MailCore

/// An RFC 3464 delivery status notification as Courier's courierdsn lays it out
/// (spec/mta.md §4.9): a `multipart/report; report-type=delivery-status` with a text part for
/// people, a `message/delivery-status` part, and the original message (or its header) last.
/// Pure: the queue's stored message (LF line ends) in, the report's bytes (LF) out.
public struct DSNReport: Sendable {
    /// What happened to one reported recipient (RFC 3464 §2.3.3).
    public enum Action: String, Sendable {
        case failed
        case delivered
        /// Handed to a mail server that does not report deliveries itself (no DSN extension).
        case relayed
        /// Still queued past `warntime`; more attempts follow (a warning, spec/mta.md §4.7).
        case delayed
    }

    /// One recipient the report is about.
    public struct Entry: Sendable {
        public var recipient: QueueRecipient
        public var action: Action
        /// The delivery agent's text (reply or reason).
        public var text: String
        /// The remote server whose reply `text` is (RFC 3464 §2.3.5), if any.
        public var remoteMTA: String?
        /// Delayed recipients: when the queue gives up (`Will-Retry-Until`, RFC 3464 §2.3.9).
        public var willRetryUntil: Int64?
        /// The command `remoteMTA` answered with `text` (the transcript's `>>>` line).
        public var command: String?

        public init(recipient: QueueRecipient, action: Action, text: String, remoteMTA: String? = nil,
                    willRetryUntil: Int64? = nil, command: String? = nil) {
            self.command = command
            self.recipient = recipient
            self.action = action
            self.text = text
            self.remoteMTA = remoteMTA
            self.willRetryUntil = willRetryUntil
        }
    }

    /// `me`: Reporting-MTA and the text part.
    public var me: String
    /// `dsnfrom`: the complete From: value.
    public var from: String
    /// `dsnlimit`: failure reports carry the whole original only below this size.
    public var limit: Int

    public init(me: String, from: String, limit: Int = 32768) {
        self.me = me
        self.from = from
        self.limit = limit
    }

    /// The report to `recipient` about `entries` of the message `header`/`body`.
    public func build(to recipient: String, header: QueuedMessageHeader, body: [UInt8], entries: [Entry],
                      now: Int64, messageID: String) -> [UInt8] {
        let anyFailed = entries.contains { $0.action == .failed }
        // §4.9 "Return of content": whole message for a failure below dsnlimit unless RET=HDRS;
        // a double bounce (the original had the null sender) returns it whole whatever its size,
        // as Courier's courierdsn does: the postmaster sees the report that could not be delivered.
        let whole = header.envelope.sender.isEmpty
            || (anyFailed && body.count < limit && header.envelope.dsnReturn != .headers)
        let returned = whole ? body : Self.headerSection(of: body)
        let encoding = returned.contains { $0 >= 0x80 } ? "8bit" : "7bit"
        let boundary = "=_courier_\(Self.boundaryNumber(avoiding: returned))"
        let arrival = RFC5322Date(epochSeconds: header.submitted).formatted
        let fromMTA = Self.receivedFromMTA(header.envelope)

        var head = ""
        head += "From: \(from)\n"
        head += "To: <\(recipient)>\n"
        let warning = !entries.isEmpty && entries.allSatisfy { $0.action == .delayed }
        // Courier's dsnsubjectwarn.txt / dsnsubjectnotice.txt wording.
        head += warning ? "Subject: WARNING: delayed mail.\n" : "Subject: NOTICE: mail delivery status.\n"
        head += "Date: \(RFC5322Date(epochSeconds: now).formatted)\n"
        head += "Message-ID: <\(messageID)@\(me)>\n"
        head += "Mime-Version: 1.0\n"
        head += "Content-Type: multipart/report; report-type=delivery-status;\n    boundary=\"\(boundary)\"\n"

        var out = "This is a MIME delivery status report (RFC 3464).\n\n"

        // The part for people.
        out += "--\(boundary)\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n"
        out += "This is the mail server at \(me).\n\n"
        out += "A message received on \(arrival) from \(fromMTA ?? "unknown")\n"
        out += warning ? "has not yet been delivered to the recipients listed below.\n"
            : "has reached its final state for the recipients listed below.\n"
        let delivered = entries.filter { $0.action == .delivered }
        let failed = entries.filter { $0.action == .failed }
        let delayed = entries.filter { $0.action == .delayed }
        if !delayed.isEmpty {
            out += "\n" + String(repeating: "-", count: 70) + "\n\n                          DELAYED MAIL\n\n"
            out += "This is only a warning: nothing needs to be done. Delivery to these\n"
            out += "addresses has been delayed, and more attempts will be made"
            if let until = delayed.compactMap(\.willRetryUntil).min() {
                out += "\nuntil \(RFC5322Date(epochSeconds: until).formatted)"
            }
            out += ".\n\n"
            for entry in delayed { out += Self.humanLines(entry) }
        }
        if !delivered.isEmpty {
            out += "\n" + String(repeating: "-", count: 70) + "\n\n                         DELIVERED\n\n"
            out += "The message was delivered to these mailboxes:\n\n"
            for entry in delivered { out += Self.humanLines(entry) }
        }
        let relayed = entries.filter { $0.action == .relayed }
        if !relayed.isEmpty {
            out += "\n" + String(repeating: "-", count: 70) + "\n\n                 DELIVERED TO A MAIL GATEWAY\n\n"
            out += "The message was handed to a mail server that does not send delivery\n"
            out += "reports of its own, for these addresses:\n\n"
            for entry in relayed { out += Self.humanLines(entry) }
        }
        if !failed.isEmpty {
            out += "\n" + String(repeating: "-", count: 70) + "\n\n                     COULD NOT BE DELIVERED\n\n"
            out += "The message could not be delivered to these addresses, and no more\nattempts will be made:\n\n"
            for entry in failed { out += Self.humanLines(entry) }
        }
        out += "\n" + String(repeating: "-", count: 70) + "\n\n"
        out += "Other recipients of the same message, if any, may get reports of their own.\n"
        out += whole ? "The original message follows.\n\n" : "The original message's header follows.\n\n"

        // RFC 3464 §2.2 per-message fields, then §2.3 per-recipient fields.
        var statusPart = ""
        statusPart += "Reporting-MTA: dns; \(me)\n"
        statusPart += "Arrival-Date: \(arrival)\n"
        if let envid = header.envelope.envelopeID, !envid.isEmpty { statusPart += "Original-Envelope-Id: \(Self.field(envid))\n" }
        if let fromMTA { statusPart += "Received-From-MTA: dns; \(Self.field(fromMTA))\n" }
        for entry in entries {
            statusPart += "\nFinal-Recipient: rfc822; \(Self.field(entry.recipient.address))\n"
            statusPart += "Action: \(entry.action.rawValue)\n"
            if let original = entry.recipient.originalRecipient, let semicolon = original.firstIndex(of: ";") {
                let type = original[..<semicolon]
                let address = original[original.index(after: semicolon)...]
                statusPart += "Original-Recipient: \(type); \(Self.field(String(address)))\n"
            }
            // A remote server's reply (esmtp) is reported as it was given: its code and its
            // RFC 3463 enhanced status when it has one (RFC 3464 §2.3.4, §2.3.6).
            let remote = Self.replyCode(entry.text)
            let fallbackStatus = entry.action == .failed ? "5.0.0" : entry.action == .delayed ? "4.0.0" : "2.0.0"
            var status = remote?.status ?? fallbackStatus
            // RFC 3464 §2.3.3: a delayed recipient's status is a transient (4.x.x) one.
            if entry.action == .delayed && !status.hasPrefix("4.") { status = "4.0.0" }
            // A failure is permanent (5.x.x) even when the last reply was a transient one (expiry).
            if entry.action == .failed && !status.hasPrefix("5.") { status = "5.0.0" }
            statusPart += "Status: \(status)\n"
            // RFC 3464 §2.3.5: the server the failure came from (placed as Courier's courierdsn does).
            if let mta = entry.remoteMTA, !mta.isEmpty { statusPart += "Remote-MTA: dns; \(Self.field(mta))\n" }
            if remote != nil {
                statusPart += "Diagnostic-Code: smtp; \(Self.diagnostic(entry.text))\n"
            } else {
                let code = entry.action == .failed ? "550" : entry.action == .delayed ? "451" : "250"
                statusPart += "Diagnostic-Code: smtp; \(code) \(Self.diagnostic(entry.text))\n"
            }
            if let until = entry.willRetryUntil {
                statusPart += "Will-Retry-Until: \(RFC5322Date(epochSeconds: until).formatted)\n"
            }
        }
        // Courier labels this part 8bit when a reply or address in it is (it keeps the text as given).
        let statusEncoding = statusPart.utf8.contains { $0 >= 0x80 } ? "8bit" : "7bit"
        out += "--\(boundary)\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: \(statusEncoding)\n\n"
        out += statusPart
        out += "\n--\(boundary)\n"
        out += whole ? "Content-Type: message/rfc822\n" : "Content-Type: text/rfc822-headers; charset=\"utf-8\"\n"
        out += "Content-Transfer-Encoding: \(encoding)\n\n"
        // RFC 2045 §6.4: the multipart is 8bit when any part is (a server's reply quoted in the
        // part for people may be UTF-8 even when the returned message is ASCII).
        let anyEightBit = encoding == "8bit" || out.utf8.contains { $0 >= 0x80 }
        head += "Content-Transfer-Encoding: \(anyEightBit ? "8bit" : "7bit")\n\n"
        var bytes = Array(head.utf8) + Array(out.utf8)
        bytes += returned
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        bytes += Array("\n--\(boundary)--\n".utf8)
        return bytes
    }

    /// `550 5.1.1 text` → its enhanced status (or `5.0.0`/`4.0.0`/`2.0.0` from the code);
    /// nil when the text does not start with an SMTP reply code.
    static func replyCode(_ text: String) -> (code: Int, status: String)? {
        let words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard let first = words.first, first.count == 3, let code = Int(first), (200..<600).contains(code) else { return nil }
        let klass = code / 100
        if words.count > 1 {
            let parts = words[1].split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
               parts[0] == "\(klass)" {
                return (code, String(words[1]))
            }
        }
        return (code, "\(klass).0.0")
    }

    static func humanLines(_ entry: Entry) -> String {
        // Courier's transcript (spec/mta.md §4.9): the server, what we said, what it answered.
        var text = "<\(entry.recipient.address)>:\n"
        if let mta = entry.remoteMTA, !mta.isEmpty { text += "     \(field(mta)):\n" }
        // `(greeting)`-style markers are not commands we sent.
        if let command = entry.command, !command.isEmpty, !command.hasPrefix("(") { text += " >>> \(String(field(command).prefix(500)))\n" }
        text += " <<< \(String(field(entry.text).prefix(500)))\n\n"
        return text
    }

    /// A header field value on one line: control characters become spaces.
    static func field(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }

    /// The longest reply text a `Diagnostic-Code:` takes (a reply may be 200 lines of 4 KiB,
    /// joined): its line stays under RFC 5322 §2.1.1's 998 octets.
    static let maxDiagnosticBytes = 900

    /// A server's reply as a `Diagnostic-Code:` value: one line as `field` makes it, cut to
    /// `maxDiagnosticBytes` octets at a character boundary.
    static func diagnostic(_ text: String) -> String {
        var out = ""
        var bytes = 0
        for character in field(text) {
            bytes += character.utf8.count
            if bytes > maxDiagnosticBytes { break }
            out.append(character)
        }
        return out
    }

    /// `helo ([ip])`, as the Received: header and Courier's `f` record name the client.
    static func receivedFromMTA(_ envelope: QueueEnvelope) -> String? {
        guard let ip = envelope.clientAddress else { return nil }
        return "\(envelope.heloName ?? "unknown") ([\(ip)])"
    }

    /// The header section of a stored message (through the first empty line).
    static func headerSection(of body: [UInt8]) -> [UInt8] {
        var index = 0
        var lineStart = true
        while index < body.count {
            if lineStart && body[index] == UInt8(ascii: "\n") { return Array(body[..<index]) }
            lineStart = body[index] == UInt8(ascii: "\n")
            index += 1
        }
        return body
    }

    /// The smallest k such that no line of `body` starts with `--=_courier_k` (spec/mta.md §4.9).
    static func boundaryNumber(avoiding body: [UInt8]) -> Int {
        let prefix = Array("--=_courier_".utf8)
        var suffixes: [ArraySlice<UInt8>] = []
        var lineStart = 0
        while lineStart < body.count {
            let lineEnd = body[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? body.count
            if lineEnd - lineStart >= prefix.count && body[lineStart..<(lineStart + prefix.count)].elementsEqual(prefix) {
                suffixes.append(body[(lineStart + prefix.count)..<lineEnd])
            }
            lineStart = lineEnd + 1
        }
        var k = 0
        while true {
            let digits = Array(String(k).utf8)
            if !suffixes.contains(where: { $0.starts(with: digits) }) { return k }
            k += 1
        }
    }
}
