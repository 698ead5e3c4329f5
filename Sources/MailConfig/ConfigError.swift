/// A problem in one config file: where it is (file and, when known, the 1-based line) and
/// what is wrong, in words an administrator can act on. Printed as `FILE:LINE: reason`.
public struct ConfigError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The file as the user knows it (a path under the config root).
    public var file: String
    /// The 1-based line number, or nil when the problem concerns the whole file.
    public var line: Int?
    /// What is wrong.
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// Every problem found while loading a config root; the daemon refuses to start (or a reload
/// keeps the old config) when this is thrown. One `FILE:LINE: reason` line per problem.
public struct ConfigLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
