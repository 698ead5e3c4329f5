import MailCore
import SPF

/// `BOFHSPFFROM` (spec/mta.md §2.15): the SPF check of the address in the message's `From:`
/// header, run once the header section has been read. Courier checks the first address of
/// the `From:` field and, when it is acceptable, adds its `Received-SPF:` field at the end of
/// the header section (after the message's own fields); `mailfromok` skips the check when
/// the MAIL FROM check gave `pass` (or `error`).
extension SenderPolicy {
    /// The identity to check: the first address in the first `From:` field of `header`
    /// (the header section, `\n` line ends), or nil when there is none.
    static func fromHeaderAddress(in header: [UInt8]) -> String? {
        guard let from = HeaderReader.read(header).first(named: "from") else { return nil }
        for entry in AddressList.parse(from.value).addresses {
            let text = String(decoding: entry.addressText, as: UTF8.self)
            if !text.isEmpty { return text }
        }
        return nil
    }

    /// Whether this message's `From:` gets checked at all: `BOFHSPFFROM` is on, the client is
    /// not a trusted relay client (`BOFHSPFTRUSTME`), and `mailfromok` does not waive it.
    func checksFromHeader(relayClient: Bool, mailFromPassed: Bool) -> Bool {
        guard let keywords = spf.from, resolver != nil else { return false }
        if relayClient && spf.trustRelayClients { return false }
        return !(mailFromPassed && keywords.contains("mailfromok"))
    }

    /// Checks `address` from the `From:` header: a refusal (`517`/`417 SPF <result>
    /// <address>: <text>`), or the `Received-SPF:` field to add.
    func checkFromHeader(_ address: String, client original: Client) async -> SenderVerdict {
        guard let keywords = spf.from, let resolver else { return SenderVerdict() }
        var client = original
        client.ip = Self.plainAddress(original.ip)
        // RFC 7208 §4.3: an address without a local part stands for postmaster at that domain.
        let sender = address.contains("@") ? address : "postmaster@" + address
        let domain = sender.split(separator: "@", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        let checker = SPFChecker(resolver: resolver, receiver: spf.receiver)
        let outcome = await checker.check(ip: client.ip, domain: domain, sender: sender, helo: client.heloName ?? "")
        if !spf.accepts(outcome.result, keywords: keywords, allowListed: client.allowListed) {
            return SenderVerdict(refusal: spfRefusal(outcome, identity: Self.headerSafe(address)))
        }
        return SenderVerdict(headers: [receivedSPF(outcome, identity: "from", sender: address, client: client)])
    }
}
