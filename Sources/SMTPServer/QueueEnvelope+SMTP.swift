import MailQueue
import SMTP

extension QueueEnvelope {
    /// The queue's envelope for what an SMTP client sent: sender, recipients with their DSN
    /// parameters (RFC 3461 NOTIFY, ORCPT, RET, ENVID), BODY, SMTPUTF8 and XVERP. Used by the
    /// network server and by `sendmail -bs`. `rewrite` gives a recipient's new address (the
    /// percent hack), or nil to keep it.
    public init(_ transaction: SMTPTransaction, clientAddress: String, heloName: String?, authenticatedUser: String?,
                rewrite: (String) -> String? = { _ in nil }) {
        let parameters = transaction.parameters
        self.init(
            sender: transaction.sender.address,
            recipients: transaction.recipients.map { mailbox, rcpt in
                QueueRecipient(address: rewrite(mailbox.address) ?? mailbox.address, notify: DSNNotify(rawValue: rcpt.notify.rawValue),
                               originalRecipient: rcpt.originalRecipient)
            },
            dsnReturn: parameters.ret.map { $0 == .full ? .full : .headers },
            envelopeID: parameters.envelopeID, verp: parameters.verp,
            eightBit: parameters.body == .eightBitMIME || parameters.body == .binaryMIME,
            smtputf8: parameters.smtputf8, clientAddress: clientAddress, heloName: heloName,
            authenticatedUser: authenticatedUser)
        source = authenticatedUser != nil ? .authenticatedSMTP : .smtp
    }
}
