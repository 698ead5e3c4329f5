import MailAuthCore

extension IMAPConnectionHandler {
    /// The `* BYE` text for an account whose options forbid IMAP on this connection
    /// (access.md §4.6, as Courier's imapd words it), or nil when it may log in.
    /// `disableimap=1`: never; `disableinsecureimap=1`: only over TLS.
    static func optionRefusal(_ options: AccountOptions, tls: Bool) -> String? {
        switch options.refusal(service: "imap", encrypted: tls) {
        case .disabled: "IMAP access disabled for this account."
        case .insecure: "IMAP access disabled via insecure connection."
        case nil: nil
        }
    }
}
