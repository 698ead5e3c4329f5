import MailConfig

/// The esmtp module's dispatch limits (spec/mta.md §5.1, Courier's `module.esmtp`):
/// `MAXDELS` deliveries at once (default 40), `MAXHOST` to one host (default 4), and
/// `MAXRCPT` recipients per SMTP transaction (default 100).
public struct ESMTPModuleLimits: Sendable, Equatable {
    public var maxDeliveries = 40
    public var maxPerHost = 4
    public var maxRecipients = 100

    public init() {}

    /// Reads `MAXDELS`, `MAXHOST` and `MAXRCPT` from `etc/module.esmtp` when the file exists.
    public static func load(etc: String) -> ESMTPModuleLimits {
        var limits = ESMTPModuleLimits()
        guard let bytes = ESMTPConfiguration.readSmallFile(etc + "/module.esmtp"),
              let parsed = try? VariableFileParser.parse(bytes, file: etc + "/module.esmtp") else { return limits }
        var variables = ConfigVariables()
        variables.merge(parsed, file: etc + "/module.esmtp")
        let environment = variables.environment
        if let value = environment["MAXDELS"].flatMap({ Int($0) }), value > 0 { limits.maxDeliveries = value }
        if let value = environment["MAXHOST"].flatMap({ Int($0) }), value > 0 { limits.maxPerHost = value }
        if let value = environment["MAXRCPT"].flatMap({ Int($0) }), value > 0 { limits.maxRecipients = value }
        return limits
    }
}
