import MailAuthCore

extension IMAPConnectionHandler {
    /// The `* BYE` text for an account whose options forbid IMAP on this connection
    /// (access.md §4.6, as Courier's imapd words it), or nil when it may log in.
    /// `disableimap=1`: never; `disableinsecureimap=1`: only over TLS.
    static func optionRefusal(_ options: AccountOptions, tls: Bool) -> String? {
        if options.isSet("disableimap") { return "IMAP access disabled for this account." }
        if !tls && options.isSet("disableinsecureimap") { return "IMAP access disabled via insecure connection." }
        return nil
    }
}
