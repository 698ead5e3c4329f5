import MailCore
#if canImport(Glibc)
import Glibc
#endif

/// The autoreply text: either plain flowed text (`-t`) or a MIME entity (`-m`) whose
/// Content- headers replace the generated `Content-Type:` line.
struct MailbotContent {
    var contentHeaders: [UInt8]?
    var body: [UInt8]
}

/// Builds mailbot's reply, DSN and forward messages (spec/tools.md §2.3).
struct MailbotReplyBuilder {
    static let mimePreamble = Array(("This is a MIME-formatted message.  If you see this text it means that your\n"
        + "E-mail software does not support MIME-formatted messages.\n").utf8)

    let input: MailbotInput
    let options: MailbotOptions
    let charset: String
    let content: MailbotContent
    var out: [UInt8] = []
    var boundaryCounter = 0

    init(input: MailbotInput, options: MailbotOptions, charset: String, content: MailbotContent) {
        self.input = input
        self.options = options
        self.charset = charset
        self.content = content
    }

    mutating func emit(_ s: String) { out.append(contentsOf: s.utf8) }
    mutating func emit(_ b: [UInt8]) { out.append(contentsOf: b) }

    /// Generates the message body parts that follow the `-A` and fixed headers.
    mutating func build() -> [UInt8] {
        switch options.mode {
        case .forward, .forwardatt: buildForward()
        default: buildReply()
        }
        return out
    }

    /// A boundary that does not occur in the original: `=_host-pid-time-NNNN` (§5.4).
    mutating func newBoundary() -> [UInt8] {
        var host = [CChar](repeating: 0, count: 256)
        _ = gethostname(&host, host.count - 1)
        let hostBytes = Array(host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }.prefix(30))
        while true {
            boundaryCounter += 1
            var counter = String(boundaryCounter)
            while counter.count < 4 { counter = "0" + counter }
            let b = Array("=_".utf8) + hostBytes + Array("-\(getpid())-\(time(nil))-\(counter)".utf8)
            if !Self.contains(input.bytes, b) { return b }
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// The `Content-Type:` line of the reply text (or the `-m` file's Content- headers) and
    /// the 8bit transfer encoding.
    mutating func emitContentHeaders() {
        if let h = content.contentHeaders {
            emit(h)
        } else {
            emit("Content-Type: text/plain; format=flowed; delsp=yes; charset=\"\(charset)\"\n")
        }
        emit("Content-Transfer-Encoding: 8bit\n\n")
    }

    mutating func buildReply() {
        let subject = input.last("subject") ?? []
        var toHeader = input.last("from") ?? []
        if let r = input.last("reply-to"), !r.isEmpty { toHeader = r }
        if options.replyToEnvelope {
            // The last of Return-Path/Errors-To wins, as in Courier's header loop.
            if let e = input.block.headers.last(where: { $0.isNamed("return-path") || $0.isNamed("errors-to") })?.value,
               !e.isEmpty {
                toHeader = e
            }
        }
        let messageID = input.last("message-id") ?? []
        let oldReferences = input.last("references") ?? []
        var cc: [UInt8] = []
        if options.mode == .replyall || options.mode == .replylist {
            let values = input.block.headers.filter { $0.isNamed("to") || $0.isNamed("cc") }.map(\.value)
            cc = MailbotHeaders.carbonCopy(toAndCc: values, replyTo: toHeader)
        }
        let whoWrote = salutation(messageID: messageID)
        let isFeedback = options.mode == .feedback || options.mode == .replyfeedback
        if options.mode == .feedback {
            toHeader = []
            cc = []
        }
        if !toHeader.isEmpty { emit("To: "); emit(toHeader); emit("\n") }
        if !cc.isEmpty { emit("Cc: "); emit(cc); emit("\n") }
        if !messageID.isEmpty || !oldReferences.isEmpty {
            emit("References: ")
            emit(MailbotHeaders.references(old: oldReferences, messageID: messageID))
        }
        if !messageID.isEmpty { emit("In-Reply-To: "); emit(messageID); emit("\n") }
        emit("Subject: ")
        if let s = options.subject, !s.isEmpty {
            emit(s)
        } else if !subject.isEmpty {
            if isFeedback {
                emit(subject)
            } else {
                emit("Re: ")
                emit(MailbotHeaders.coreSubject(subject))
            }
        }
        emit("\nMime-Version: 1.0\n")
        var reportType: String?
        if options.mode == .replydsn, let d = options.dsnFrom, !d.isEmpty { reportType = "delivery-status" }
        if isFeedback { reportType = "feedback-report" }
        var boundary: [UInt8] = []
        if let reportType {
            boundary = newBoundary()
            emit("Content-Type: multipart/report; report-type=\(reportType);\n    boundary=\"")
            emit(boundary)
            emit("\"\n\n")
            emit(Self.mimePreamble)
            emit("\n--"); emit(boundary); emit("\n")
        }
        emitContentHeaders()
        if !options.noQuote {
            if !whoWrote.isEmpty { emit(whoWrote); emit("\n\n") }
            if let part = MailbotQuoter.firstTextPlain(input.mime) {
                emit(MailbotQuoter.quote(input, entity: part, charset: charset, depth: 1))
            }
            emit("\n")
        }
        emit(content.body)
        emit("\n\n")
        guard reportType != nil else { return }
        emit("\n--"); emit(boundary); emit("\n")
        if isFeedback { emitFeedbackReport() } else { emitDeliveryStatus() }
        emit("\n--"); emit(boundary)
        let eightBitHeaders = input.mime.entities.first?.errors.contains(.eightBitHeader) ?? false
        if options.attachFull {
            emit("\nContent-Type: \(eightBitHeaders ? "message/global" : "message/rfc822")\n")
            emit("Content-Disposition: attachment\n\n")
            emit(input.bytes)
        } else {
            emit("\nContent-Type: \(eightBitHeaders ? "message/global-headers" : "text/rfc822-headers")")
            emit("; charset=\"utf-8\"\nContent-Disposition: attachment\nContent-Transfer-Encoding: 8bit\n\n")
            emit(input.unfoldedHeaderLines)
        }
        emit("\n--"); emit(boundary); emit("--\n")
    }

    /// The attribution line from `-S` (default `%F writes:`).
    func salutation(messageID: [UInt8]) -> [UInt8] {
        var f = MailbotSalutation.Fields()
        f.newsgroup = input.last("x-newsgroup") ?? []
        f.newsgroups = input.last("newsgroups") ?? []
        f.messageID = messageID
        f.date = input.last("date") ?? []
        if let a = AddressList.parse(input.last("from") ?? []).entries.first(where: \.hasAddress) {
            f.name = RFC2047Decoder.decode(a.nameText, targetCharset: charset)
            f.address = a.addressText
        }
        if f.address.isEmpty { f.address = Array("(no address given)".utf8) }
        if f.name.isEmpty { f.name = f.address == Array("(no address given)".utf8) ? [UInt8(ascii: "@")] : f.address }
        return MailbotSalutation.expand(options.salutation, f)
    }

    mutating func emitArrivalDate() {
        emit("Arrival-Date: ")
        emit(RFC5322Date(epochSeconds: Int64(time(nil))).formattedBytes)
        emit("\n")
    }

    /// RFC 3464 §2.2/§2.3: the per-message and per-recipient fields of a delivered DSN.
    mutating func emitDeliveryStatus() {
        let from = options.dsnFrom ?? []
        if from.contains(where: { $0 >= 0x80 }) {
            emit("Content-Type: message/global-delivery-status; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n")
        } else {
            emit("Content-Type: message/delivery-status\nContent-Transfer-Encoding: 7bit\n\n")
        }
        emitArrivalDate()
        emit("\nFinal-Recipient: rfc822; "); emit(from)
        emit("\nAction: delivered\nStatus: 2.0.0\n")
    }

    /// RFC 5965 §3.1: the machine-readable part of an abuse report.
    mutating func emitFeedbackReport() {
        // maildrop 2.9.3 (the oracle) labels the part 7bit and prints no Feedback-Type.
        emit("Content-Type: message/feedback-report\nContent-Transfer-Encoding: 7bit\n\n")
        emitArrivalDate()
        emit("User-Agent: librfc2045 courier-swift/1.0\nVersion: 1\n")
        for (name, value) in options.feedbackHeaders {
            var titled: [UInt8] = []
            var last = UInt8(ascii: "-")
            for c in CByteClass.lowercased(name) {
                let u = last == UInt8(ascii: "-") && c >= 0x61 && c <= 0x7a ? c - 32 : c
                titled.append(u)
                last = u
            }
            emit(titled); emit(": "); emit(value); emit("\n")
        }
    }
}
