import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The server side TLS context of a listener, from Courier's `TLS_CERTFILE` (a PEM file with
/// the certificate chain, and the key unless `TLS_PRIVATE_KEYFILE` names another file), and
/// `TLS_VERIFYPEER` / `TLS_TRUSTCERTS` for client certificates (spec/access.md, TLS settings).
public enum ServerTLS {
    /// `TLS_VERIFYPEER`: whether clients are asked for a certificate.
    public enum PeerVerification: Sendable, Equatable {
        /// `NONE` (the default): no client certificate is asked for.
        case none
        /// `PEER`: asked for; one that is sent must check out against `TLS_TRUSTCERTS`.
        case peer
        /// `REQUIREPEER`: a client without a good certificate fails the handshake.
        case requirePeer

        /// Courier's value (case-insensitive); anything else is `NONE`.
        public init(_ value: String?) {
            switch value?.uppercased() {
            case "PEER": self = .peer
            case "REQUIREPEER": self = .requirePeer
            default: self = .none
            }
        }
    }

    /// nil when no certificate is configured or the file is not readable (no TLS offered);
    /// throws when the file is there but its certificate or key cannot be used.
    /// `trustCertificates` (`TLS_TRUSTCERTS`, a PEM file or a directory of them) checks client
    /// certificates; without it the system's store does.
    public static func makeContext(certificateFile: String?, privateKeyFile: String?,
                                   verifyPeer: PeerVerification = .none,
                                   trustCertificates: String? = nil) throws -> NIOSSLContext? {
        guard let certificateFile, access(certificateFile, R_OK) == 0 else { return nil }
        let certificates = try NIOSSLCertificate.fromPEMFile(certificateFile)
        let key = try NIOSSLPrivateKey(file: privateKeyFile ?? certificateFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        switch verifyPeer {
        case .none: break
        case .peer: configuration.certificateVerification = .optionalVerification
        case .requirePeer: configuration.certificateVerification = .noHostnameVerification
        }
        if verifyPeer != .none, let trustCertificates, !trustCertificates.isEmpty {
            configuration.trustRoots = .file(trustCertificates)
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
