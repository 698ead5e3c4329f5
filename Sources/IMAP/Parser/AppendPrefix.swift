/// The start of an APPEND command whose next message is streamed (``CommandFramer``): what
/// the server needs to open the message file before the bytes arrive.
public struct AppendPrefix: Hashable, Sendable {
    public var tag: [UInt8]
    public var mailbox: MailboxName
    /// Which message of the command (0 for the first; RFC 3502 MULTIAPPEND has several).
    public var messageIndex: Int

    /// Parses `tag SP "APPEND" SP mailbox *(SP append-message)` followed by the flags and
    /// date of the message whose literal comes next; nil when that is not what `bytes` hold.
    public static func parse(_ bytes: [UInt8], limits: IMAPLimits = IMAPLimits()) -> AppendPrefix? {
        var p = Parser(bytes, limits: limits)
        do throws(IMAPSyntaxError) {
            let tag = try p.tag()
            try p.space()
            guard try p.keyword() == "APPEND" else { return nil }
            try p.space()
            let mailbox = try p.mailbox()
            var index = 0
            while p.skip(32) {
                if p.atEnd { break }
                switch p.peek {
                case UInt8(ascii: "("): _ = try p.flagList()
                case UInt8(ascii: "\""): _ = try p.dateTime()
                case UInt8(ascii: "{"), UInt8(ascii: "~"):
                    _ = try p.literal(binaryAllowed: true)
                    index += 1
                case UInt8(ascii: "U"), UInt8(ascii: "u"):
                    // RFC 6855 §4: UTF8 (literal8)
                    guard p.skipWord("UTF8 (") else { return nil }
                    if p.atEnd { break }
                    _ = try p.literal(binaryAllowed: true)
                    try p.expect(UInt8(ascii: ")"), ")")
                    index += 1
                default: return nil
                }
            }
            guard p.atEnd, index < limits.appendMessages else { return nil }
            return AppendPrefix(tag: tag, mailbox: mailbox, messageIndex: index)
        } catch {
            return nil
        }
    }
}
