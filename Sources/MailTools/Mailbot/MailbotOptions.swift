/// The kinds of autoreply mailbot's `-T` selects (spec/tools.md §2.1).
public enum MailbotReplyMode: String, Sendable {
    case reply, replyall, replydsn, replydraft, forward, forwardatt, feedback, replyfeedback, replylist
}

/// mailbot's command line, parsed (spec/tools.md §2.1). Values are raw bytes so that
/// non-UTF-8 arguments pass through unchanged.
public struct MailbotOptions: Sendable {
    public var textFile: [UInt8]?
    public var mimeFile: [UInt8]?
    public var charset: [UInt8]?
    public var mode: MailbotReplyMode = .reply
    public var dsnFrom: [UInt8]?
    public var feedbackType: [UInt8]?
    public var noQuote = false
    public var attachFull = false
    public var replyToEnvelope = false
    public var salutation: [UInt8] = Array("%F writes:".utf8)
    public var forwardMarker: [UInt8] = Array("--- Forwarded message ---".utf8)
    public var recipients: [UInt8]?
    public var duplicateDB: [UInt8]?
    public var days: Int = 1
    public var subject: [UInt8]?
    public var headers: [[UInt8]] = []
    /// `-faddr`: the explicit address; `-f` alone: take `$SENDER` (`useSenderEnv`).
    public var explicitRecipient: [UInt8]?
    public var useSenderEnv = false
    public var draftFolder: [UInt8]?
    public var printOnly = false
    public var feedbackHeaders: [(name: [UInt8], value: [UInt8])] = []
    /// The mailer command (the arguments after the options); empty: `sendmail -f ''`.
    public var mailer: [[UInt8]] = []

    public init() {}
}

/// Parses mailbot's arguments (program name not included); nil means a usage error.
public enum MailbotArgumentParser {
    public static func parse(_ arguments: [[UInt8]]) -> MailbotOptions? {
        var o = MailbotOptions()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            guard arg.count >= 2, arg[0] == UInt8(ascii: "-") else { break }
            if arg == Array("--".utf8) { i += 1; break }
            if arg[1] == UInt8(ascii: "-") {
                // --feedback-NAME VALUE: an RFC 5965 field NAME (any name, as Courier).
                guard arg.starts(with: Array("--feedback-".utf8)), i + 1 < arguments.count else { return nil }
                o.feedbackHeaders.append((Array(arg.dropFirst(11)), arguments[i + 1]))
                i += 2
                continue
            }
            let letter = arg[1]
            let attached = Array(arg.dropFirst(2))
            // Flags without a value.
            switch letter {
            case UInt8(ascii: "N"): o.noQuote = true; i += 1; continue
            case UInt8(ascii: "a"): o.attachFull = true; i += 1; continue
            case UInt8(ascii: "e"): o.replyToEnvelope = true; i += 1; continue
            case UInt8(ascii: "n"): o.printOnly = true; i += 1; continue
            case UInt8(ascii: "f"):
                if attached.isEmpty { o.useSenderEnv = true } else { o.explicitRecipient = attached }
                i += 1
                continue
            default: break
            }
            let value: [UInt8]
            if !attached.isEmpty {
                value = attached
                i += 1
            } else {
                guard i + 1 < arguments.count else { return nil }
                value = arguments[i + 1]
                i += 2
            }
            switch letter {
            case UInt8(ascii: "t"): o.textFile = value
            case UInt8(ascii: "m"): o.mimeFile = value
            case UInt8(ascii: "c"): o.charset = value
            case UInt8(ascii: "T"):
                guard let s = String(validating: value, as: UTF8.self), let m = MailbotReplyMode(rawValue: s) else { return nil }
                o.mode = m
            case UInt8(ascii: "M"): o.dsnFrom = value
            case UInt8(ascii: "R"): o.feedbackType = value
            case UInt8(ascii: "S"): o.salutation = value
            case UInt8(ascii: "F"): o.forwardMarker = value
            case UInt8(ascii: "r"): o.recipients = value
            case UInt8(ascii: "d"): o.duplicateDB = value
            case UInt8(ascii: "D"):
                guard let s = String(validating: value, as: UTF8.self), let d = Int(s), d >= 0 else { return nil }
                o.days = d
            case UInt8(ascii: "s"): o.subject = value
            case UInt8(ascii: "A"): o.headers.append(value)
            case UInt8(ascii: "l"): o.draftFolder = value
            case UInt8(ascii: "X"): break
            default: return nil
            }
        }
        if o.textFile != nil && o.mimeFile != nil { return nil }
        if o.dsnFrom != nil { o.mode = .replydsn }
        o.mailer = Array(arguments[i...])
        return o
    }
}
