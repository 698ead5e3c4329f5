/// What Courier's pop3d sends instead of a message with 8-bit (UTF-8) headers to a client that
/// did not say `UTF8` (RFC 6856 §3 leaves it to the server; spec/access.md §3.3): a small
/// `multipart/mixed` message from the mail system whose first part explains and whose second
/// part, of type `MIME_UNICODE_MESSAGE_TYPE` (default `message/global`, RFC 6532 §3.7), is
/// the message itself, byte for byte. The headers are Courier's; the explanation is ours.
/// The wire form (CRLF, dot-stuffing) is made by `POP3MessageEncoder`, which sees the
/// wrapper's header, the file and the footer as one stream, so TOP counts the wrapper's lines.
public struct POP3UnicodeWrapper: Equatable, Sendable {
    /// Courier's default part type.
    public static let defaultMessageType = "message/global"

    /// Sent before the message's bytes (LF line ends, as stored messages have).
    public let header: [UInt8]
    /// Sent after them.
    public let footer: [UInt8]

    /// `boundary` must not occur in the message; Courier uses `=_<pid>-<time>`.
    public init(boundary: String, messageType: String = defaultMessageType) {
        var text = "From: Mail Delivery Subsystem <postmaster>\n"
        text += "Subject: Cannot display Unicode content\n"
        text += "Mime-Version: 1.0\n"
        text += "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\n"
        text += "\n\n--\(boundary)\n"
        text += "Content-Type: text/plain\n\n"
        text += "The headers of this message are in UTF-8 (Unicode), and your mail program\n"
        text += "did not tell the server that it can read such messages (the POP3 UTF8\n"
        text += "command, RFC 6856).\n\n"
        text += "The message was not changed: it is attached as it arrived, so that it can\n"
        text += "be saved and opened with a program that reads Unicode mail.\n\n"
        text += "--\(boundary)\n"
        text += "Content-Type: \(messageType)\n\n"
        header = Array(text.utf8)
        footer = Array("\n--\(boundary)--\n".utf8)
    }

    /// The boundary Courier's pop3d uses: `=_<pid>-<time>`.
    public static func courierBoundary(processID: Int32, time: Int64) -> String {
        "=_\(processID)-\(time)"
    }

    /// The octets RETR announces for a wrapped message of POP3 size `size` (Courier adds the
    /// wrapper's stored length and so counts its line ends as one octet; this is the size
    /// actually sent, but for a message without a final line end, where the 2 octets its size
    /// counts for the missing one are counted again in the footer's first line end).
    public func wrappedSize(_ size: Int64) -> Int64 {
        POP3MessageEncoder.wireSize(of: header) + size + POP3MessageEncoder.wireSize(of: footer)
    }
}
