import Delivery
import SMTP

/// Who may send to whom (spec/mta.md §2.12 RCPT stage). Never an open relay: a recipient
/// that is not ours is refused unless the client may relay (`RELAYCLIENT` from smtpaccess, or
/// an authenticated session).
struct RelayPolicy: Sendable {
    /// esmtpd-msa: a refused relay asks for AUTH (`530`) instead of `513 Relaying denied.`.
    var isSubmission: Bool

    /// nil accepts the recipient; a reply refuses it. `block` (the `BLOCK` reply) refuses
    /// every recipient that passed the relay check (spec/mta.md §2.12 RCPT steps 4 and 6).
    func check(_ mailbox: SMTPMailbox, relayAllowed: Bool, block: SMTPReply? = nil,
               lookup: any RecipientLookup) async -> SMTPReply? {
        let denied = isSubmission ? Replies.authenticationRequired : Replies.relayingDenied
        // `user%domain@ourdomain` for a domain in esmtppercentrelay: relayed for anyone, as
        // `user@domain` (the envelope is rewritten when the message is queued).
        if mailbox.sourceRoute.isEmpty, lookup.percentRelayTarget(mailbox.address) != nil {
            return block
        }
        // Source routes, the percent hack, bang paths and quoted `@` name another route inside
        // our address: only clients that may relay anyway get them (RFC 5321 §3.6.1, §4.1.1.3).
        if !relayAllowed && (!mailbox.sourceRoute.isEmpty || mailbox.hasRoutingInLocalPart) {
            return denied
        }
        let route = await lookup.route(mailbox.address)
        if case .remote = route, !relayAllowed { return denied }
        if let block { return block }
        switch route {
        case .local, .acceptedRelay:
            return nil
        case .unknownUser:
            return Replies.unknownUser(mailbox.address)
        case .temporaryFailure:
            return Replies.lookupUnavailable
        case .remote:
            return relayAllowed ? nil : denied
        }
    }
}
