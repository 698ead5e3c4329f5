import MailAuthCore

/// RFC 1939 §7 APOP: the client proves it knows the clear password by sending
/// hex(MD5(timestamp + password)). Only accounts whose module keeps a clear password
/// (PostgreSQL's clear column) can use it.
public enum APOPDigest {
    /// The digest a client with `password` sends for `timestamp` (lower-case hex).
    public static func expected(timestamp: String, password: String) -> String {
        AuthEncoding.hex(MD5.hash(Array(timestamp.utf8) + Array(password.utf8))).lowercased()
    }

    /// True when `digest` (hex, any case) matches; compared in constant time.
    public static func matches(_ digest: String, timestamp: String, password: String) -> Bool {
        let want = Array(expected(timestamp: timestamp, password: password).utf8)
        let got = Array(digest.lowercased().utf8)
        return got.count == want.count && ConstantTime.equal(got, want)
    }

    /// A fresh timestamp for the greeting: `<pid.random@host>` (RFC 1939 §7 asks for one that
    /// differs every time the greeting is sent).
    public static func timestamp(processID: Int32, random: [UInt8], host: String) -> String {
        "<\(processID).\(AuthEncoding.hex(random))@\(host)>"
    }
}
