/// Builds the command lines a client sends (RFC 5321 §4.1.1, with the RFC 1870, 6152,
/// 3461 and 6531 parameters), each ending in CRLF.
public enum ClientCommands {
    public static func ehlo(_ name: String) -> [UInt8] { line("EHLO \(name)") }
    public static func helo(_ name: String) -> [UInt8] { line("HELO \(name)") }
    public static let startTLS = line("STARTTLS")
    public static let data = line("DATA")
    public static let rset = line("RSET")
    public static let quit = line("QUIT")

    /// RFC 1870 §3 estimate of the size on the wire, as Courier computes it: LF grows to CRLF
    /// (`size/75*77 + 256`), and a body downgraded to quoted-printable grows by 100/70.
    public static func sizeEstimate(bodyCount: Int, downgraded: Bool) -> Int {
        var n = bodyCount / 75 * 77 + 256
        if downgraded { n = n / 70 * 100 }
        return n
    }

    /// `MAIL FROM:<sender>` with only the parameters the server announced.
    public static func mailFrom(_ tx: ClientTransaction, capabilities caps: ServerCapabilities,
                                downgraded: Bool) -> String {
        var command = "MAIL FROM:<\(tx.sender)>"
        if tx.smtpUTF8 && caps.smtpUTF8 { command += " SMTPUTF8" }
        if caps.eightBitMIME { command += tx.eightBit ? " BODY=8BITMIME" : " BODY=7BIT" }
        if tx.verp && caps.courierVERP { command += " VERP" }
        if caps.dsn {
            if let ret = tx.dsnReturn { command += " RET=\(ret.rawValue)" }
            if let envid = tx.envelopeID { command += " ENVID=\(xtext(envid))" }
        }
        if caps.size != nil {
            command += " SIZE=\(sizeEstimate(bodyCount: tx.body.count, downgraded: downgraded))"
        }
        return command
    }

    /// `RCPT TO:<address>` with RFC 3461 §4.1/§4.2 NOTIFY and ORCPT when the server has DSN.
    public static func rcptTo(_ rcpt: ClientTransaction.Recipient, capabilities caps: ServerCapabilities) -> String {
        var command = "RCPT TO:<\(rcpt.address)>"
        if caps.dsn {
            if !rcpt.notify.isEmpty { command += " NOTIFY=" + rcpt.notify.joined(separator: ",") }
            if let orcpt = rcpt.originalRecipient {
                // RFC 3461 §4.2: addr-type ";" xtext; the type itself is plain.
                if let semicolon = orcpt.firstIndex(of: ";") {
                    command += " ORCPT=" + orcpt[..<semicolon] + ";" + xtext(String(orcpt[orcpt.index(after: semicolon)...]))
                } else {
                    command += " ORCPT=rfc822;" + xtext(orcpt)
                }
            }
        }
        return command
    }

    /// RFC 3461 §4: bytes 33…126 other than `+` and `=` stay, the rest become `+HH`.
    public static func xtext(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in value.utf8 {
            if byte >= 33, byte <= 126, byte != UInt8(ascii: "+"), byte != UInt8(ascii: "=") {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "+"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func line(_ text: String) -> [UInt8] { Array(text.utf8) + [13, 10] }
}
