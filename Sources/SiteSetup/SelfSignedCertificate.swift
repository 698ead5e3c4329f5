import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed server certificate for a new site, as one PEM holding the private key and
/// then the certificate (the layout of Courier's `esmtpd.pem`, `imapd.pem`, `pop3d.pem`).
public struct SelfSignedCertificate: Sendable {
    /// PKCS#8 `PRIVATE KEY` block then the `CERTIFICATE` block.
    public let pem: String

    /// A P-256 certificate for `commonName`, valid from an hour ago for `days` days, with
    /// `dnsNames` and `ipAddresses` (IPv4 or IPv6 text) as subject alternative names.
    public init(commonName: String, dnsNames: [String], ipAddresses: [String], days: Int = 825) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Courier for Swift (self-signed)")
            CommonName(commonName)
        }
        var alternativeNames = dnsNames.map { GeneralName.dnsName($0) }
        for address in ipAddresses {
            if let bytes = Self.addressBytes(address) {
                alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
            }
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600),
            notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(key))
        pem = key.pemRepresentation + "\n" + (try certificate.serializeAsPEM().pemString) + "\n"
    }

    /// Network-order bytes of a numeric address.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        if buffer.withUnsafeMutableBytes({ inet_pton(AF_INET, text, $0.baseAddress) }) == 1 {
            return Array(buffer.prefix(4))
        }
        if buffer.withUnsafeMutableBytes({ inet_pton(AF_INET6, text, $0.baseAddress) }) == 1 {
            return buffer
        }
        return nil
    }
}
