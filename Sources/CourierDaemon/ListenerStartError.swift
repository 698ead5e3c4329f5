import MailConfig
#if canImport(Glibc)
import Glibc
#endif

/// A listener that could not open its socket. `courier start` prints it as one line,
/// `courier: SERVICE: cannot listen on ADDRESS:PORT: REASON`, and exits non-zero.
public struct ListenerStartError: Error, CustomStringConvertible, Sendable {
    public let service: String
    public let endpoint: ListenEndpoint
    /// Lower-case system words, e.g. "address already in use".
    public let reason: String

    public init(service: String, endpoint: ListenEndpoint, reason: String) {
        self.service = service
        self.endpoint = endpoint
        self.reason = reason
    }

    public var description: String {
        "\(service): cannot listen on \(endpoint): \(reason)"
    }

    /// strerror(3) text for `errno`, first letter lowered ("address already in use").
    public static func systemReason(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        let words = String(cString: text)
        guard let first = words.first else { return "error \(code)" }
        return first.lowercased() + words.dropFirst()
    }
}
