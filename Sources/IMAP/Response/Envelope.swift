/// One address of an ENVELOPE (RFC 3501 §7.4.2 `address`): name, source route, mailbox, host.
/// A group start has a nil host and the group name as mailbox; a group end is all nil.
public struct EnvelopeAddress: Hashable, Sendable {
    public var name: [UInt8]?
    public var route: [UInt8]?
    public var mailbox: [UInt8]?
    public var host: [UInt8]?
    public init(name: [UInt8]?, route: [UInt8]? = nil, mailbox: [UInt8]?, host: [UInt8]?) {
        self.name = name
        self.route = route
        self.mailbox = mailbox
        self.host = host
    }
}

/// ENVELOPE (RFC 3501 §7.4.2): the header fields as the server parsed them.
public struct Envelope: Hashable, Sendable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    public var from: [EnvelopeAddress] = []
    public var sender: [EnvelopeAddress] = []
    public var replyTo: [EnvelopeAddress] = []
    public var to: [EnvelopeAddress] = []
    public var cc: [EnvelopeAddress] = []
    public var bcc: [EnvelopeAddress] = []
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?
    public init() {}
}

extension ResponseWriter {
    /// envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to
    ///            SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
    /// RFC 3501 §7.4.2: sender and reply-to default to from when absent.
    public mutating func envelope(_ e: Envelope) {
        append("(")
        nstring(e.date)
        space()
        nstring(e.subject)
        space()
        addresses(e.from)
        space()
        addresses(e.sender.isEmpty ? e.from : e.sender)
        space()
        addresses(e.replyTo.isEmpty ? e.from : e.replyTo)
        space()
        addresses(e.to)
        space()
        addresses(e.cc)
        space()
        addresses(e.bcc)
        space()
        nstring(e.inReplyTo)
        space()
        nstring(e.messageID)
        append(")")
    }

    mutating func addresses(_ list: [EnvelopeAddress]) {
        guard !list.isEmpty else { append("NIL"); return }
        append("(")
        for a in list {
            append("(")
            nstring(a.name)
            space()
            nstring(a.route)
            space()
            nstring(a.mailbox)
            space()
            nstring(a.host)
            append(")")
        }
        append(")")
    }
}
