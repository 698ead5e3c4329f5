/// MailCore: bytes and lines, RFC 5322 headers, addresses, dates, RFC 2047 words,
/// the MIME tree, base64 and quoted-printable. Pure and byte-oriented: no I/O, no Foundation.
public enum MailCoreInfo {
    public static let version = "0.1.0"
}
