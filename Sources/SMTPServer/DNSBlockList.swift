import DNS

/// One `-block=` or `-allow=` option of `BLACKLISTS` (couriertcpd's DNS lists,
/// spec/mta.md §2.17): `-block=zone[=display][,VAR[/a.b.c.d][,message]]`,
/// `-allow=zone[=display][,VAR[/a.b.c.d][,]]`.
struct DNSListRule: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case block, allow }
    var kind: Kind
    var zone: String
    /// The name shown in the default message and `VAR_ZONE` (the zone when not given).
    var display: String
    /// The variable a hit sets (default `BLOCK`).
    var variable: String
    /// Only this A-record answer counts as a hit.
    var requiredAddress: String?
    /// `-block`: the message (`*` = the TXT record); nil = `Blacklisted by <display>`.
    /// `-allow`: a present but empty message asks for the TXT record too.
    var message: String?

    /// Splits a `BLACKLISTS` value into rules; words that are not `-block=`/`-allow=` options
    /// (such as `-drop`) are ignored here.
    static func parse(_ text: String) -> [DNSListRule] {
        var rules: [DNSListRule] = []
        for word in Self.words(text) {
            let kind: Kind
            let body: Substring
            if word.hasPrefix("-block=") {
                kind = .block
                body = word.dropFirst(7)
            } else if word.hasPrefix("-allow=") {
                kind = .allow
                body = word.dropFirst(7)
            } else {
                continue
            }
            let fields = body.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
            guard let first = fields.first, !first.isEmpty else { continue }
            let zoneParts = first.split(separator: "=", maxSplits: 1)
            let zone = String(zoneParts[0])
            var rule = DNSListRule(kind: kind, zone: zone, display: zoneParts.count > 1 ? String(zoneParts[1]) : zone,
                                   variable: "BLOCK", requiredAddress: nil, message: nil)
            if fields.count > 1, !fields[1].isEmpty {
                let variableParts = fields[1].split(separator: "/", maxSplits: 1)
                rule.variable = String(variableParts[0])
                if variableParts.count > 1 { rule.requiredAddress = String(variableParts[1]) }
            }
            if fields.count > 2 { rule.message = String(fields[2]) }
            rules.append(rule)
        }
        return rules
    }

    /// Blank-separated words; double quotes group (`-block=zone,BLOCK,"550 go away"`).
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if !quoted && (character == " " || character == "\t" || character == "\n") {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// The name to look up for `ip` in this zone: reversed octets (or nibbles) + zone.
    func queryName(for ip: String) -> DNSName? {
        let plain = SenderPolicy.plainAddress(ip)
        guard let reverse = DNSName(reverseOf: plain) else { return nil }
        var text = reverse.description
        if text.hasSuffix(".") { text.removeLast() }
        for suffix in [".in-addr.arpa", ".ip6.arpa"] where text.hasSuffix(suffix) {
            text.removeLast(suffix.count)
        }
        return DNSName(text + "." + zone)
    }
}

/// Runs a client's address through the `BLACKLISTS` rules in order and returns the variables
/// the hits set (spec/mta.md §2.17). A rule is skipped when its variable is already set (by
/// smtpaccess or an earlier list); lookup failures count as no hit.
struct DNSBlockList: Sendable {
    var rules: [DNSListRule]
    var resolver: DNSResolver

    func evaluate(ip: String, preset: [String: String]) async -> [String: String] {
        var variables = preset
        var set: [String: String] = [:]
        var allowCount = 0
        for rule in rules where variables[rule.variable] == nil {
            guard let name = rule.queryName(for: ip) else { continue }
            // A list may answer several codes; `/a.b.c.d` asks for one of them.
            let answers = await addresses(name)
            let hit: String?
            if let required = rule.requiredAddress {
                hit = answers.contains(required) ? required : nil
            } else {
                hit = answers.first
            }
            guard let address = hit else { continue }
            var value: String
            var txt: String?
            switch rule.kind {
            case .block:
                if rule.message == "*" {
                    txt = await text(name)
                    value = txt ?? "Blacklisted by \(rule.display)"
                } else if let message = rule.message, !message.isEmpty {
                    value = message
                } else {
                    value = "Blacklisted by \(rule.display)"
                }
            case .allow:
                value = ""
                if rule.message != nil { txt = await text(name) }
                set["ALLOW_\(allowCount)"] = rule.variable
                allowCount += 1
            }
            variables[rule.variable] = value
            set[rule.variable] = value
            set[rule.variable + "_IP"] = address
            set[rule.variable + "_ZONE"] = rule.display
            if let txt { set[rule.variable + "_TXT"] = txt }
        }
        return set
    }

    private func addresses(_ name: DNSName) async -> [String] {
        guard case .records(let records)? = try? await resolver.lookup(name, .a) else { return [] }
        return records.compactMap(DNSAddressText.address(of:))
    }

    private func text(_ name: DNSName) async -> String? {
        guard case .records(let records)? = try? await resolver.lookup(name, .txt) else { return nil }
        for record in records {
            if case .txt(let strings) = record.data {
                return String(decoding: strings.joined(), as: UTF8.self)
            }
        }
        return nil
    }
}
