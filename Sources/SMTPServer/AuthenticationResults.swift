import MailCore

/// The `Authentication-Results:` field (RFC 8601) Courier adds for a client found in an
/// `-allow` DNS list (spec/mta.md §2.13, §2.17): one `dnswl=pass` clause per hit, with the
/// list's zone, the address it answered and its TXT record.
enum AuthenticationResults {
    /// The field for the variables `DNSBlockList.evaluate` set (`ALLOW_0`… name each hit's
    /// variable; `VAR_ZONE`, `VAR_IP`, `VAR_TXT` describe it), or "" when nothing was allowed.
    static func dnsAllowList(_ found: [String: String], me: String) -> String {
        var field = ""
        var index = 0
        while let variable = found["ALLOW_\(index)"] {
            index += 1
            guard let zone = found[variable + "_ZONE"] else { continue }
            let ip = found[variable + "_IP"], txt = found[variable + "_TXT"]
            guard ip != nil || txt != nil else { continue }
            if field.isEmpty { field = "Authentication-Results: " + SenderPolicy.headerSafe(me) }
            field += ";\n    dnswl=pass dns.zone=" + SenderPolicy.headerSafe(zone)
            if let ip { field += "\n    policy.ip=" + SenderPolicy.headerSafe(ip) }
            if let txt { field += "\n    policy.txt=\"" + quotedText(txt) + "\"" }
        }
        return field.isEmpty ? "" : field + "\n"
    }

    /// A TXT record as the inside of a quoted string: as it is when it is plain printable ASCII
    /// without `"` or `\`, else one RFC 2047 encoded word run (the text comes from the DNS:
    /// control characters, line breaks included, become spaces first).
    static func quotedText(_ txt: String) -> String {
        let safe = SenderPolicy.headerSafe(txt)
        let plain = safe.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        if plain { return safe }
        guard let encoded = RFC2047Encoder.encode(Array(safe.utf8), charset: "utf-8", allowed: .word) else {
            return String(decoding: safe.utf8.filter { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }, as: UTF8.self)
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
