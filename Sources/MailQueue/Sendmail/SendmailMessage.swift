import MailCore

/// What `sendmail` does to a message before it is queued (spec/mta.md §6.1): recipients from
/// `To:`/`Cc:`/`Bcc:` when none were given, `Bcc:` removed, `From:`, `Date:`, `Message-ID:`
/// added when missing, and a `Received:` trace line. CRLF becomes LF. Pure.
public struct SendmailMessage: Sendable, Equatable {
    public var recipients: [String]
    public var bytes: [UInt8]

    public struct Context: Sendable {
        public var me: String
        public var defaultDomain: String
        public var userName: String
        public var fullName: String?
        public var uid: UInt32
        public var now: Int64
        public var uniquePart: String

        public init(me: String, defaultDomain: String, userName: String, fullName: String?, uid: UInt32,
                    now: Int64, uniquePart: String) {
            self.me = me
            self.defaultDomain = defaultDomain
            self.userName = userName
            self.fullName = fullName
            self.uid = uid
            self.now = now
            self.uniquePart = uniquePart
        }
    }

    public static func prepare(_ input: [UInt8], options: SendmailOptions, context: Context) -> SendmailMessage {
        var text: [UInt8] = []
        text.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x0D && index + 1 < input.count && input[index + 1] == 0x0A {
                index += 1
                continue
            }
            text.append(byte)
            index += 1
        }
        // Split the header section off (up to the first empty line).
        var headerEnd = 0
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        while start < text.count {
            let end = text[start...].firstIndex(of: 0x0A) ?? text.count
            if end == start { headerEnd = end + 1; break }
            lines.append(text[start..<end])
            start = end + 1
            headerEnd = start
        }
        // Logical header fields: a line plus its continuation lines.
        var fields: [[ArraySlice<UInt8>]] = []
        for line in lines {
            if let first = line.first, first == 0x20 || first == 0x09, !fields.isEmpty {
                fields[fields.count - 1].append(line)
            } else {
                fields.append([line])
            }
        }
        func name(_ field: [ArraySlice<UInt8>]) -> String {
            let line = field[0]
            guard let colon = line.firstIndex(of: 0x3A) else { return "" }
            return String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingSpaces.lowercased()
        }
        func value(_ field: [ArraySlice<UInt8>]) -> [UInt8] {
            var result: [UInt8] = []
            for (number, line) in field.enumerated() {
                if number == 0, let colon = line.firstIndex(of: 0x3A) {
                    result += line[(colon + 1)...]
                } else {
                    result += [0x20] + line
                }
            }
            return result
        }
        var recipients = options.recipients
        if recipients.isEmpty {
            let wanted: Set<String> = options.bccOnly ? ["bcc"] : ["to", "cc", "bcc"]
            for field in fields where wanted.contains(name(field)) {
                recipients += AddressList.parse(value(field)).addresses.map { String(decoding: $0.addressText, as: UTF8.self) }
            }
        }
        recipients = recipients.map { $0.contains("@") ? $0 : $0 + "@" + context.defaultDomain }
        // spec/mta.md §6.1: with -bs the message is taken as an SMTP client sent it: Bcc: stays
        // (the client chose the recipients) and no From: is made up.
        let kept = options.smtpSession ? fields : fields.filter { name($0) != "bcc" }
        let names = Set(kept.map(name))
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 512)
        let date = RFC5322Date(epochSeconds: context.now).formatted
        out += Array("Received: from \(context.userName) by \(context.me) with local (Courier for Swift); uid \(context.uid); \(date)\n".utf8)
        for field in kept {
            // spec/mta.md §2.13: an incoming Return-Path is kept as Old-Return-Path (delivery
            // writes the real one from the envelope).
            if name(field) == "return-path" { out += Array("Old-".utf8) }
            for line in field { out += line + [0x0A] }
        }
        if !names.contains("from") && !options.smtpSession {
            let address = context.userName + "@" + context.me
            let display = (options.fullName ?? context.fullName).map { "\"" + $0.replacingQuotes + "\" <" + address + ">" } ?? address
            out += Array("From: \(display)\n".utf8)
        }
        if !names.contains("date") { out += Array("Date: \(date)\n".utf8) }
        if !names.contains("message-id") {
            out += Array("Message-ID: <courier.\(context.uniquePart)@\(context.me)>\n".utf8)
        }
        out += [0x0A]
        if headerEnd < text.count { out += text[headerEnd...] }
        return SendmailMessage(recipients: recipients, bytes: out)
    }
}

extension String {
    var replacingQuotes: String {
        String(self.map { $0 == "\"" || $0 == "\\" ? "'" : $0 })
    }
}
