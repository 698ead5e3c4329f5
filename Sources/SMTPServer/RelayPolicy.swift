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
        if mailbox.isBangPath { return bangPathRefusal(relayAllowed: relayAllowed, block: block) }
        if isPercentRelay(mailbox, lookup) { return block }
        if let refusal = refusalBeforeLookup(mailbox, relayAllowed: relayAllowed) { return refusal }
        let route = await lookup.route(mailbox.address)
        return decide(mailbox, route, relayAllowed: relayAllowed, block: block)
    }

    /// The answer when the route is known already (`RecipientLookup.cachedRoute`): `.some`
    /// with the verdict (nil inside accepts), `.none` when the lookup must run.
    func checkWithoutLookup(_ mailbox: SMTPMailbox, relayAllowed: Bool, block: SMTPReply? = nil,
                            lookup: any RecipientLookup) -> SMTPReply?? {
        if mailbox.isBangPath { return .some(bangPathRefusal(relayAllowed: relayAllowed, block: block)) }
        // The percent hack needs the router (not on the event loop): the async path decides.
        if mailbox.localPart.contains("%") && mailbox.sourceRoute.isEmpty { return .none }
        if let refusal = refusalBeforeLookup(mailbox, relayAllowed: relayAllowed) { return .some(refusal) }
        guard let route = lookup.cachedRoute(mailbox.address) else { return .none }
        return .some(decide(mailbox, route, relayAllowed: relayAllowed, block: block))
    }

    /// `user%domain@ourdomain` for a domain in esmtppercentrelay: relayed for anyone, as
    /// `user@domain` (the envelope is rewritten when the message is queued).
    private func isPercentRelay(_ mailbox: SMTPMailbox, _ lookup: any RecipientLookup) -> Bool {
        mailbox.sourceRoute.isEmpty && mailbox.localPart.contains("%") && lookup.percentRelayTarget(mailbox.address) != nil
    }

    /// A bang path (`host!user@domain`, UUCP style) goes nowhere: Courier's local and esmtp
    /// modules both pass an address with `!` before its `@` on, and without a uucp module
    /// nothing takes it (spec/mta.md §2.12 RCPT step 9: `511 Undeliverable address.`), for
    /// relay clients too. Clients that may not relay keep getting the relay refusal.
    private func bangPathRefusal(relayAllowed: Bool, block: SMTPReply?) -> SMTPReply {
        relayAllowed ? block ?? Replies.undeliverable : denied
    }

    private var denied: SMTPReply { isSubmission ? Replies.authenticationRequired : Replies.relayingDenied }

    private func refusalBeforeLookup(_ mailbox: SMTPMailbox, relayAllowed: Bool) -> SMTPReply? {
        // Source routes, the percent hack, bang paths and quoted `@` name another route inside
        // our address: only clients that may relay anyway get them (RFC 5321 §3.6.1, §4.1.1.3).
        if !relayAllowed && (!mailbox.sourceRoute.isEmpty || mailbox.hasRoutingInLocalPart) {
            return denied
        }
        return nil
    }

    private func decide(_ mailbox: SMTPMailbox, _ route: RecipientRoute, relayAllowed: Bool, block: SMTPReply?) -> SMTPReply? {
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
