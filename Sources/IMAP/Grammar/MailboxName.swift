/// A mailbox name as the client sent it: modified UTF-7 (RFC 3501 §5.1.3), or UTF-8 once
/// UTF8=ACCEPT is enabled (RFC 6855 §3). "INBOX" in any case means the inbox (RFC 3501 §5.1).
public struct MailboxName: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = Parser.uppercased(bytes) == Array("INBOX".utf8) ? Array("INBOX".utf8) : bytes
    }

    public init(_ text: String) { self.init(Array(text.utf8)) }

    public static let inbox = MailboxName("INBOX")

    public var isInbox: Bool { bytes == Array("INBOX".utf8) }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
