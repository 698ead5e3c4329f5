/// The formats a stored password can have (spec/access.md §4.4 "Accepted hash formats"):
/// crypt(3) strings (`$1$`, `$5$`, `$6$`, `$y$`, `$2b$`, traditional DES), an optional
/// `{CRYPT}` prefix, and the LDAP-style `{MD5}`, `{MD5RAW}`, `{SHA}`, `{SSHA}`, `{SHA256}`,
/// `{SSHA256}`, `{SHA512}`, `{SSHA512}` forms. A bare word that is none of these (a clear-text
/// password in `systempw`) never matches.
public enum PasswordScheme: Equatable, Sendable {
    /// A crypt(3) string, checked by libxcrypt.
    case crypt(String)
    /// `{MD5}`/`{SHA}`/… with the digest (and salt for the salted forms) already decoded.
    case digest(DigestKind, digest: [UInt8], salt: [UInt8])
    /// Not a hash we know (clear text, garbage, an empty field): never matches.
    case unusable

    /// The plain digests of the `{NAME}` forms.
    public enum DigestKind: String, Sendable, CaseIterable {
        case md5, sha1, sha256, sha512

        var outputSize: Int {
            switch self {
            case .md5: MD5.outputSize
            case .sha1: SHA1.outputSize
            case .sha256: SHA256.outputSize
            case .sha512: SHA512.outputSize
            }
        }

        public func hash(_ bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .md5: MD5.hash(bytes)
            case .sha1: SHA1.hash(bytes)
            case .sha256: SHA256.hash(bytes)
            case .sha512: SHA512.hash(bytes)
            }
        }
    }

    /// Classifies a stored password field. Pure: bytes in, value out (fuzzable).
    public static func parse(_ stored: String) -> PasswordScheme {
        let bytes = Array(stored.utf8)
        guard !bytes.isEmpty, bytes.count <= AuthLimits.maxStoredHashBytes else { return .unusable }
        if bytes.first == UInt8(ascii: "{"), let close = bytes.firstIndex(of: UInt8(ascii: "}")) {
            let tag = String(decoding: bytes[1..<close], as: UTF8.self).uppercased()
            let body = bytes[(close + 1)...]
            switch tag {
            case "CRYPT":
                return cryptForm(String(decoding: body, as: UTF8.self))
            case "MD5": return unsalted(.md5, base64: body)
            case "SHA", "SHA1": return unsalted(.sha1, base64: body)
            case "SHA256": return unsalted(.sha256, base64: body)
            case "SHA512": return unsalted(.sha512, base64: body)
            case "SSHA", "SSHA1": return salted(.sha1, base64: body)
            case "SSHA256": return salted(.sha256, base64: body)
            case "SSHA512": return salted(.sha512, base64: body)
            case "MD5RAW":
                guard let digest = AuthEncoding.decodeHex(body), digest.count == MD5.outputSize else { return .unusable }
                return .digest(.md5, digest: digest, salt: [])
            default:
                return .unusable
            }
        }
        return cryptForm(stored)
    }

    private static func unsalted(_ kind: DigestKind, base64: ArraySlice<UInt8>) -> PasswordScheme {
        guard let digest = AuthEncoding.decodeBase64(base64), digest.count == kind.outputSize else { return .unusable }
        return .digest(kind, digest: digest, salt: [])
    }

    private static func salted(_ kind: DigestKind, base64: ArraySlice<UInt8>) -> PasswordScheme {
        guard let decoded = AuthEncoding.decodeBase64(base64), decoded.count > kind.outputSize else { return .unusable }
        return .digest(kind, digest: Array(decoded[..<kind.outputSize]), salt: Array(decoded[kind.outputSize...]))
    }

    /// crypt(3) strings: `$id$…` of a method libxcrypt knows, or 13-character DES.
    private static func cryptForm(_ text: String) -> PasswordScheme {
        let bytes = Array(text.utf8)
        let allowed: (UInt8) -> Bool = { byte in
            (byte >= 0x21 && byte <= 0x7e) && byte != UInt8(ascii: ":")
        }
        guard !bytes.isEmpty, bytes.allSatisfy(allowed) else { return .unusable }
        if bytes.first == UInt8(ascii: "$") {
            return bytes.count >= 4 ? .crypt(text) : .unusable
        }
        // Traditional DES: 2 salt + 11 hash characters from [./0-9A-Za-z].
        let desAlphabet: (UInt8) -> Bool = { byte in
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
        }
        if bytes.count == 13, bytes.allSatisfy(desAlphabet) { return .crypt(text) }
        return .unusable
    }
}
