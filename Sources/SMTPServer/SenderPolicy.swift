import DNS
import MailConfig
import SMTP
import SPF

/// `BOFHSPF*` settings (spec/mta.md §2.14, §2.15).
struct SPFPolicy: Sendable {
    /// Acceptable results for the HELO identity (Courier keywords), nil = `off`.
    var helo: Set<String>?
    /// Acceptable results for the MAIL FROM identity, nil = `off`.
    var mailFrom: Set<String>?
    /// Acceptable results for the `From:` header's address (`BOFHSPFFROM`), nil = `off`.
    var from: Set<String>?
    /// `BOFHSPFHARDERROR`: unacceptable results answered with 517 (others 417).
    var hardError: Set<String> = ["fail", "softfail"]
    /// `BOFHSPFTRUSTME=1`: no SPF for clients that may relay.
    var trustRelayClients = false
    /// `BOFHSPFNOVERBOSE=1`: our stock text instead of the domain's explanation.
    var quiet = false
    /// Our EHLO name (`receiver=` in `Received-SPF:`).
    var receiver = ""

    /// A `BOFHSPF*` value: nil for `off` (or unset), else its keywords.
    static func keywords(_ value: String?) -> Set<String>? {
        guard let value else { return nil }
        let words = Set(value.lowercased().split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init))
        return words.isEmpty || words.contains("off") ? nil : words
    }

    var isActive: Bool { helo != nil || mailFrom != nil }

    func accepts(_ result: SPFResult, keywords: Set<String>, allowListed: Bool) -> Bool {
        keywords.contains("all") || keywords.contains(result.courierName) || (allowListed && keywords.contains("allowok"))
    }
}

/// The sender check's answer: a refusal, or the trace headers to add to the message.
struct SenderVerdict: Sendable, Equatable {
    var refusal: SMTPReply?
    /// `Received-SPF:` fields (each with its CRLF-free folded lines joined by `\n`).
    var headers: [String] = []
    /// The MAIL FROM check ran and gave `pass` or `error` (`BOFHSPFFROM=…,mailfromok`).
    var mailFromPassed = false
}

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
    var spf = SPFPolicy()

    /// Whether MAIL FROM needs a check at all (else the session answers by itself).
    var isActive: Bool {
        !bofh.badFrom.isEmpty || !bofh.freemail.isEmpty || ((checkDNS || checkHelo != 0 || spf.isActive) && resolver != nil)
    }

    /// What one MAIL FROM is checked against.
    struct Client: Sendable {
        var ip: String
        var heloName: String?
        /// The client may relay (`RELAYCLIENT` or a login): no HELO or freemail check.
        var relayClient: Bool
        /// `BLOCK` is set for this client: no DNS check (Courier skips it then).
        var blocked: Bool
        /// A DNS allow list (`-allow=`) listed the client (`allowok` in `BOFHSPF*`).
        var allowListed = false
    }

    /// Checks one MAIL FROM in Courier's order (spec/mta.md §2.12 MAIL stage).
    func check(_ sender: SMTPReversePath, client original: Client) async -> SenderVerdict {
        var client = original
        client.ip = Self.plainAddress(original.ip)   // `::ffff:192.0.2.1` → `192.0.2.1`
        var headers: [String] = []
        var heloPassed = false
        var mailFromPassed = false
        if spf.isActive, let resolver, !(client.relayClient && spf.trustRelayClients) {
            let checker = SPFChecker(resolver: resolver, receiver: spf.receiver)
            let helo = client.heloName ?? ""
            // spec/mta.md §2.15: no HELO check for an address literal; the client's own address passes.
            if let keywords = spf.helo, !Self.isAddressLiteral(helo) {
                let outcome = await checker.check(ip: client.ip, domain: helo, sender: "postmaster@" + helo, helo: helo)
                heloPassed = outcome.result == .pass
                headers.append(receivedSPF(outcome, identity: "helo", sender: "postmaster@" + helo, client: client))
                if !spf.accepts(outcome.result, keywords: keywords, allowListed: client.allowListed) {
                    return SenderVerdict(refusal: spfRefusal(outcome, identity: helo))
                }
            } else if spf.helo != nil, Self.plainAddress(Self.unbracketed(helo)) == client.ip {
                heloPassed = true
            }
            if let keywords = spf.mailFrom, case .mailbox(let mailbox) = sender {
                let outcome = await checker.check(ip: client.ip, domain: mailbox.domain, sender: mailbox.address, helo: helo)
                headers.append(receivedSPF(outcome, identity: "mailfrom", sender: mailbox.address, client: client))
                if !spf.accepts(outcome.result, keywords: keywords, allowListed: client.allowListed) {
                    return SenderVerdict(refusal: spfRefusal(outcome, identity: mailbox.address))
                }
                mailFromPassed = outcome.result == .pass || outcome.result.courierName == "error"
            }
        }
        if checkHelo != 0, !heloPassed, !client.relayClient, let helo = client.heloName,
           Self.plainAddress(Self.unbracketed(helo)) != client.ip, let resolver {
            if let refusal = await checkHeloName(helo, ip: client.ip, resolver: resolver) { return SenderVerdict(refusal: refusal) }
        }
        return SenderVerdict(refusal: await checkSender(sender, client: client), headers: headers,
                             mailFromPassed: mailFromPassed)
    }

    /// `<code> SPF <result> <identity>: <explanation>` (spec/mta.md §2.15).
    func spfRefusal(_ outcome: SPFOutcome, identity: String) -> SMTPReply {
        let name = outcome.result.courierName
        let hard = spf.hardError.contains(name)
        // The explanation comes from the sender's DNS: one bounded, control-free line.
        let text = spf.quiet ? "Rejected by the Sender Policy Framework." : String(Self.headerSafe(outcome.explanation).prefix(300))
        return SMTPReply(hard ? 517 : 417, EnhancedStatusCode(hard ? 5 : 4, 7, hard ? 23 : 24), "SPF \(name) \(identity): \(text)")
    }

    /// The `Received-SPF:` field of one check (RFC 7208 §9.1 result names, Courier's layout).
    func receivedSPF(_ outcome: SPFOutcome, identity: String, sender: String, client: Client) -> String {
        let comment = Self.headerSafe(outcome.explanation).map { "()\\".contains($0) ? "\\" + String($0) : String($0) }.joined()
        var lines = ["Received-SPF: \(outcome.result.rawValue) (\(comment))",
                     "  identity=\(identity);", "  SPF=\(identity.uppercased());",
                     "  sender=\(Self.fieldValue(sender));", "  remoteip=\(client.ip);"]
        if let helo = client.heloName { lines.append("  helo=\(Self.fieldValue(helo));") }
        lines.append("  receiver=\(spf.receiver);")
        return lines.joined(separator: "\n")
    }

    /// A `key=value` value of `Received-SPF:` (RFC 7208 §9.1: dot-atom or quoted-string): an
    /// address or name of atext, dots and `@` stays as it is (Courier's layout); anything else
    /// (a quoted local part with `;` or spaces, a HELO argument with `"`) becomes a quoted
    /// string, so the client cannot add key-value pairs of its own.
    static func fieldValue(_ text: String) -> String {
        let safe = headerSafe(text)
        let plain = !safe.isEmpty && safe.utf8.allSatisfy { byte in
            SMTPByteClass.isAtext(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "@")
        }
        if plain { return safe }
        return "\"" + safe.unicodeScalars.map { $0 == "\\" || $0 == "\"" ? "\\" + String($0) : String($0) }.joined() + "\""
    }

    /// Text from the network or a DNS record, safe inside a header: no line ends or controls.
    static func headerSafe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(400).map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
    }

    /// badfrom, freemail and the sender domain's DNS (steps 6–8).
    func checkSender(_ sender: SMTPReversePath, client: Client) async -> SMTPReply? {
        guard case .mailbox(let mailbox) = sender else { return nil }
        let domain = mailbox.domain.lowercased()
        if bofh.refusesSender(user: mailbox.localPart, domain: domain) {
            return Replies.senderRejected(mailbox.address)
        }
        if !client.relayClient, let relays = bofh.freemailRelays(for: domain) {
            // A temporary DNS failure is tolerated (Courier's `softdnserr`).
            let refused: Bool
            switch await reverseName(of: client.ip) {
            case .name(let name): refused = !relays.contains { name == $0 || name.hasSuffix("." + $0) }
            case .none: refused = true
            case .temporaryFailure: refused = false
            }
            if refused {
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

    enum ReverseName: Equatable {
        case name(String)
        case none
        case temporaryFailure
    }

    /// The client's forward-confirmed reverse name (Courier's `TCPREMOTEHOST`), lowercased.
    func reverseName(of ip: String) async -> ReverseName {
        guard let resolver, let reverse = DNSName(reverseOf: Self.plainAddress(ip)) else { return .none }
        let answer: DNSLookupResult
        do {
            answer = try await resolver.lookup(reverse, .ptr)
        } catch {
            return error.isTemporary ? .temporaryFailure : .none
        }
        guard case .records(let records) = answer else { return .none }
        var temporary = false
        for record in records.prefix(10) {
            guard case .ptr(let target) = record.data else { continue }
            do {
                let addresses = try await resolver.addresses(of: target, preferIPv6: false)
                guard addresses.contains(where: { Self.plainAddress($0) == Self.plainAddress(ip) }) else { continue }
            } catch {
                temporary = temporary || error.isTemporary
                continue
            }
            var name = target.description.lowercased()
            if name.hasSuffix(".") { name.removeLast() }
            return .name(name)
        }
        return temporary ? .temporaryFailure : .none
    }

    /// `[192.0.2.1]`, `[IPv6:2001:db8::1]` or a bare address.
    static func isAddressLiteral(_ helo: String) -> Bool {
        helo.hasPrefix("[") || DNSName(reverseOf: plainAddress(helo)) != nil
    }

    static func unbracketed(_ helo: String) -> String {
        guard helo.hasPrefix("["), helo.hasSuffix("]") else { return helo }
        var inner = String(helo.dropFirst().dropLast())
        if inner.lowercased().hasPrefix("ipv6:") { inner.removeFirst(5) }
        return inner
    }

    /// `::ffff:192.0.2.1` → `192.0.2.1`.
    static func plainAddress(_ ip: String) -> String {
        ip.lowercased().hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip.lowercased()
    }
}
