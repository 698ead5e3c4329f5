
/// The `Received:` trace header (RFC 5321 §4.4, spec/mta.md §2.13) the server puts first.
enum ReceivedHeader {
    static func make(helo: String?, clientIP: String, me: String, extended: Bool, tls: Bool,
                     authenticatedUser: String?, mechanism: String? = nil, smtputf8: Bool, date: String) -> String {
        // RFC 3848 protocol types.
        var with = extended ? "ESMTP" : "SMTP"
        if tls { with += "S" }
        if authenticatedUser != nil { with += "A" }
        if smtputf8 { with = "UTF8" + with.dropFirst(extended ? 1 : 0) }
        var header = "Received: from \(helo ?? "unknown") ([\(clientIP)])\n"
        var comments: [String] = []
        if let authenticatedUser { comments.append("AUTH: " + (mechanism.map { $0 + " " } ?? "") + authenticatedUser) }
        if tls { comments.append("TLS") }
        if !comments.isEmpty { header += "  (\(comments.joined(separator: ", ")))\n" }
        header += "  by \(me) with \(with); \(date)\n"
        return header
    }
}
