import DNS
import MailConfig
import SMTP

/// The MAIL FROM checks of Courier's esmtp module (spec/mta.md §2.12 MAIL stage, steps 4 and
/// 6–8): the HELO name against the client address (`BOFHCHECKHELO`), `bofh badfrom`,
/// `bofh freemail`, and the sender domain in DNS (`BOFHCHECKDNS`, `bofh badmx`).
struct SenderPolicy: Sendable {
    var bofh: BofhSettings
    /// `BOFHCHECKDNS` non-zero (and `BLOCK` empty, decided by the caller).
    var checkDNS: Bool
    /// `BOFHCHECKHELO`: 0 off, 1 permanent 517, 2 temporary 417.
    var checkHelo: Int
    var resolver: DNSResolver?

    /// Whether MAIL FROM needs a check at all (else the session answers by itself).
    var isActive: Bool {
        !bofh.badFrom.isEmpty || !bofh.freemail.isEmpty || ((checkDNS || checkHelo != 0) && resolver != nil)
    }

    /// What one MAIL FROM is checked against.
    struct Client: Sendable {
        var ip: String
        var heloName: String?
        /// The client may relay (`RELAYCLIENT` or a login): no HELO or freemail check.
        var relayClient: Bool
        /// `BLOCK` is set for this client: no DNS check (Courier skips it then).
        var blocked: Bool
    }

    /// nil accepts the sender; a reply refuses it.
    func check(_ sender: SMTPReversePath, client: Client) async -> SMTPReply? {
        if checkHelo != 0, !client.relayClient, let helo = client.heloName, helo != client.ip,
           helo != "[\(client.ip)]", let resolver {
            if let refusal = await checkHeloName(helo, ip: client.ip, resolver: resolver) { return refusal }
        }
        guard case .mailbox(let mailbox) = sender else { return nil }
        let domain = mailbox.domain.lowercased()
        if bofh.refusesSender(user: mailbox.localPart, domain: domain) {
            return Replies.senderRejected(mailbox.address)
        }
        if !client.relayClient, let relays = bofh.freemailRelays(for: domain) {
            let name = await reverseName(of: client.ip)
            if !relays.contains(where: { name == $0 || (name?.hasSuffix("." + $0) ?? false) }) {
                return SMTPReply(517, EnhancedStatusCode(5, 7, 1), [
                    "Sender rejected: \(mailbox.address) can be accepted only from", "\(domain)'s mail relays."])
            }
        }
        if checkDNS, !client.blocked, let resolver, !domain.hasPrefix("[") {
            return await checkSenderDomain(domain, resolver: resolver)
        }
        return nil
    }

    /// spec/mta.md §2.12 MAIL step 8.
    func checkSenderDomain(_ domain: String, resolver: DNSResolver) async -> SMTPReply? {
        let invalid = "Invalid domain, see <URL:https://datatracker.ietf.org/doc/html/rfc1035>"
        switch await resolver.mailExchangers(for: domain, preferIPv6: false) {
        case .relays(let relays):
            if let literal = relays.first(where: \.targetIsAddressLiteral), literal.priority >= 0 {
                return SMTPReply(517, EnhancedStatusCode(5, 1, 8), ["MX records for \(domain) violate section 3.3.9 of RFC 1035.", invalid])
            }
            if let bad = relays.first(where: { bofh.badMX.contains($0.address.lowercased()) }) {
                return SMTPReply(517, EnhancedStatusCode(5, 7, 1), "Mail server at \(bad.address) is blocked.")
            }
            return nil
        case .noMail:
            // RFC 7505 §4.2: a null MX sender domain cannot receive bounces.
            return SMTPReply(517, EnhancedStatusCode(5, 1, 8), ["Domain does not accept mail: \(domain).", invalid])
        case .hardError:
            return SMTPReply(517, EnhancedStatusCode(5, 1, 8), ["Domain does not exist: \(domain).", invalid])
        case .badDNS:
            return SMTPReply(517, EnhancedStatusCode(5, 1, 8), ["RFC 1035 violation: recursive CNAME records for \(domain).", invalid])
        case .softError:
            return SMTPReply(417, EnhancedStatusCode(4, 4, 3), "DNS lookup failure: \(domain).  Try again later.")
        }
    }

    /// spec/mta.md §2.12 MAIL step 4: the HELO name's MX hosts or addresses must include the
    /// client's address; a null MX is tolerated.
    func checkHeloName(_ helo: String, ip: String, resolver: DNSResolver) async -> SMTPReply? {
        let code = checkHelo == 2 ? 417 : 517
        let klass: UInt8 = checkHelo == 2 ? 4 : 5
        let client = Self.plainAddress(ip)
        guard let name = DNSName(helo) else {
            return SMTPReply(code, EnhancedStatusCode(klass, 7, 1), "HELO \(helo) does not exist.")
        }
        do {
            let addresses = try await resolver.addresses(of: name, preferIPv6: false)
            if addresses.contains(where: { Self.plainAddress($0) == client }) { return nil }
        } catch {
            if error.isTemporary {
                return SMTPReply(417, EnhancedStatusCode(4, 4, 3), "DNS lookup on HELO \(helo) failed.  Try again later.")
            }
            if error == .cnameLoop {
                return SMTPReply(code, EnhancedStatusCode(klass, 7, 1), "RFC 1035 violation: recursive CNAME records for \(helo).")
            }
        }
        switch await resolver.mailExchangers(for: helo, preferIPv6: false) {
        case .relays(let relays):
            if relays.contains(where: { Self.plainAddress($0.address) == client }) { return nil }
            return SMTPReply(code, EnhancedStatusCode(klass, 7, 1), "HELO \(helo) does not match \(ip)")
        case .noMail:
            return nil
        case .softError:
            return SMTPReply(417, EnhancedStatusCode(4, 4, 3), "DNS lookup on HELO \(helo) failed.  Try again later.")
        case .badDNS:
            return SMTPReply(code, EnhancedStatusCode(klass, 7, 1), "RFC 1035 violation: recursive CNAME records for \(helo).")
        case .hardError:
            return SMTPReply(code, EnhancedStatusCode(klass, 7, 1), "HELO \(helo) does not exist.")
        }
    }

    /// The client's forward-confirmed reverse name (Courier's `TCPREMOTEHOST`), lowercased.
    func reverseName(of ip: String) async -> String? {
        guard let resolver, let reverse = DNSName(reverseOf: Self.plainAddress(ip)),
              case .records(let records)? = try? await resolver.lookup(reverse, .ptr) else { return nil }
        for record in records {
            guard case .ptr(let target) = record.data,
                  let addresses = try? await resolver.addresses(of: target, preferIPv6: false),
                  addresses.contains(where: { Self.plainAddress($0) == Self.plainAddress(ip) }) else { continue }
            var name = target.description.lowercased()
            if name.hasSuffix(".") { name.removeLast() }
            return name
        }
        return nil
    }

    /// `::ffff:192.0.2.1` → `192.0.2.1`.
    static func plainAddress(_ ip: String) -> String {
        ip.lowercased().hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip.lowercased()
    }
}
