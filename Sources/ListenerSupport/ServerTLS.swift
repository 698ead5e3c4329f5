import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The server side TLS context of a listener, from Courier's `TLS_CERTFILE` (a PEM file with
/// the certificate chain, and the key unless `TLS_PRIVATE_KEYFILE` names another file).
public enum ServerTLS {
    /// nil when no certificate is configured or the file is not readable (no TLS offered);
    /// throws when the file is there but its certificate or key cannot be used.
    public static func makeContext(certificateFile: String?, privateKeyFile: String?) throws -> NIOSSLContext? {
        guard let certificateFile, access(certificateFile, R_OK) == 0 else { return nil }
        let certificates = try NIOSSLCertificate.fromPEMFile(certificateFile)
        let key = try NIOSSLPrivateKey(file: privateKeyFile ?? certificateFile, format: .pem)
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        return try NIOSSLContext(configuration: configuration)
    }
}
