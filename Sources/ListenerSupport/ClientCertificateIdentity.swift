import NIOCore
import NIOSSL
import NIOTLS
import X509

/// The login name a TLS client certificate gives for SASL EXTERNAL: the subject field that
/// `TLS_EXTERNAL` names (Courier: `emailaddress`, `cn`, `uid`…), spec/access.md and
/// spec/mta.md §2.9. nil when there is no certificate, no such field, or the value is not a
/// plain printable name.
public enum ClientCertificateIdentity {
    /// Subject attribute names Courier's TLS layer knows, with their X.500 types.
    static let fields: [String: String] = [
        "emailaddress": "1.2.840.113549.1.9.1",
        "cn": "2.5.4.3",
        "uid": "0.9.2342.19200300.100.1.1",
        "o": "2.5.4.10",
        "ou": "2.5.4.11",
        "serialnumber": "2.5.4.5",
    ]

    /// The login of a connection whose TLS handshake just completed (`event` is the inbound user
    /// event a protocol handler sees), or nil for any other event or without a usable certificate.
    public static func afterHandshake(_ event: Any, context: ChannelHandlerContext, field: String?) -> String? {
        guard case TLSUserEvent.handshakeCompleted = event, let field,
              let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) else { return nil }
        return identity(of: tls.peerCertificate, field: field)
    }

    public static func identity(of certificate: NIOSSLCertificate?, field: String?) -> String? {
        guard let certificate, let field, let type = fields[field.lowercased()],
              let der = try? certificate.toDERBytes(),
              let parsed = try? Certificate(derEncoded: der) else { return nil }
        for rdn in parsed.subject {
            for attribute in rdn where String(describing: attribute.type) == type {
                let value = attribute.value.description
                // A login name: no blanks, controls or separators the auth protocols use.
                guard !value.isEmpty, value.utf8.count <= 256,
                      value.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 }) else { return nil }
                return value
            }
        }
        return nil
    }
}
