#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOSSL
import Synchronization

/// The client's `NIOSSLContext`s, made once per kind of certificate check instead of once per
/// connection (loading a CA store and building a BoringSSL context costs far more than a
/// handshake on a reused context). A context depends on the check (none, chain only, chain
/// and name) and on the trusted-CA path; the path's modification time and size are part of
/// the key, so an edited `TLS_TRUSTCERTS` file is read again by the next connection.
final class TLSContextCache: Sendable {
    /// How much of the server's certificate is checked.
    enum Verification: Hashable, Sendable { case none, chainOnly, full }

    struct Key: Hashable, Sendable {
        var verification: Verification
        var trustRoots: String?
        /// The trusted-CA file's (or directory's) mtime seconds, nanoseconds and size.
        var stamp: [Int]
    }

    /// One cache for the process: contexts are shared by every transport.
    static let shared = TLSContextCache()

    /// More distinct contexts than this means configuration churn: start over.
    static let capacity = 32

    private let contexts = Mutex<[Key: NIOSSLContext]>([:])

    /// The context for a connection with `check` (nil: opportunistic, nothing checked);
    /// `nameKnown` false when connecting to an address literal (chain checked, no name).
    func context(check: TLSCertificateCheck?, nameKnown: Bool) throws -> NIOSSLContext {
        let verification: Verification = check == nil ? .none : nameKnown && check?.checkName == true ? .full : .chainOnly
        let roots = check?.trustRoots
        let key = Key(verification: verification, trustRoots: roots, stamp: roots.map(Self.stamp) ?? [])
        if let context = contexts.withLock({ $0[key] }) { return context }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .none: configuration.certificateVerification = .none
        case .chainOnly: configuration.certificateVerification = .noHostnameVerification
        case .full: configuration.certificateVerification = .fullVerification
        }
        if let roots { configuration.trustRoots = .file(roots) }
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLock { table in
            if table.count >= Self.capacity { table.removeAll() }
            table[key] = context
        }
        return context
    }

    var count: Int { contexts.withLock { $0.count } }

    static func stamp(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [-1] }
        return [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_size)]
    }
}
