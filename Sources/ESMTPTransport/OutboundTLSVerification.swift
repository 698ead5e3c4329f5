/// Whether and against what the esmtp client checks a server's certificate (spec/mta.md §5.3.4;
/// Courier's `courierd` settings, read at each delivery like the other control files).
///
/// - `ESMTP_TLS_VERIFY_DOMAIN=1`: the certificate must chain to a trusted CA and name the MX
///   host connected to.
/// - `TLS_TRUSTCERTS`: the trusted CAs (a PEM file or a directory of them); unset = the system's.
/// - `TLS_VERIFYPEER=PEER` (or `REQUIREPEER`; Courier's default is `NONE`): the certificate
///   must chain to a trusted CA; its name is checked only with `ESMTP_TLS_VERIFY_DOMAIN=1`.
/// - `esmtproutes` `/SECURITY=STARTTLS` always verifies, against `TLS_TRUSTSECURITYCERTS`
///   (Courier's private CA for the SECURITY extension); without that setting such mail fails
///   (`500 Unable to set minimum security level.`, as Courier).
public struct OutboundTLSVerification: Sendable, Equatable {
    public var verifyDomain = false
    public var verifyPeer = false
    public var trustCertificates: String?
    public var trustSecurityCertificates: String?

    public init() {}

    public init(_ variables: [String: String]) {
        verifyDomain = (variables["ESMTP_TLS_VERIFY_DOMAIN"].flatMap { Int($0) } ?? 0) != 0
        // Courier's TLS library looks at the first letter: N(ONE), P(EER), R(EQUIREPEER).
        verifyPeer = variables["TLS_VERIFYPEER"].flatMap(\.first).map { "pPrR".contains($0) } ?? false
        trustCertificates = variables["TLS_TRUSTCERTS"].flatMap { $0.isEmpty ? nil : $0 }
        trustSecurityCertificates = variables["TLS_TRUSTSECURITYCERTS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The check for a connection: nil = encrypt without checking (opportunistic TLS).
    public func check(securityRoute: Bool) -> TLSCertificateCheck? {
        if securityRoute {
            return TLSCertificateCheck(trustRoots: trustSecurityCertificates ?? trustCertificates)
        }
        if verifyDomain { return TLSCertificateCheck(trustRoots: trustCertificates) }
        return verifyPeer ? TLSCertificateCheck(trustRoots: trustCertificates, checkName: false) : nil
    }
}

/// A certificate check to carry out: chain to `trustRoots` (nil = system CAs) and, when
/// `checkName`, the host name.
public struct TLSCertificateCheck: Sendable, Hashable {
    public var trustRoots: String?
    public var checkName: Bool

    public init(trustRoots: String?, checkName: Bool = true) {
        self.trustRoots = trustRoots
        self.checkName = checkName
    }
}
