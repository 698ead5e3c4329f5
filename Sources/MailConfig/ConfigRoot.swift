#if canImport(Glibc)
import Glibc
#endif

/// A site's directory tree (DESIGN.md "The config root"): `etc/` with Courier's files,
/// `var/queue/`, `var/log/`, and `mail/` with the virtual users' homes.
public struct ConfigRoot: Sendable, Equatable, CustomStringConvertible {
    /// Absolute path of the root.
    public let path: String

    /// `path` made absolute against the current directory; trailing slashes removed.
    public init(path: String) {
        var absolute = path
        if !absolute.hasPrefix("/") {
            let current = currentDirectory()
            absolute = absolute == "." ? current : current + "/" + (absolute.hasPrefix("./") ? String(absolute.dropFirst(2)) : absolute)
        }
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        self.path = absolute
    }

    public var description: String { path }

    public var etc: String { path + "/etc" }
    public var queue: String { path + "/var/queue" }
    public var log: String { path + "/var/log" }
    public var mail: String { path + "/mail" }
    /// The daemon's log file.
    public var logFile: String { log + "/courier.log" }

    /// A file in `etc/`.
    public func etc(_ name: String) -> String { etc + "/" + name }

    /// The root every command uses: `--root`, else `$COURIER_ROOT`, else `/usr/lib/courier`.
    public static func resolve(explicit: String?, environment: [String: String]) -> ConfigRoot {
        if let explicit, !explicit.isEmpty { return ConfigRoot(path: explicit) }
        if let fromEnvironment = environment[ConfigDefaults.rootEnvironmentVariable], !fromEnvironment.isEmpty {
            return ConfigRoot(path: fromEnvironment)
        }
        return ConfigRoot(path: ConfigDefaults.root)
    }

    /// The process environment as a dictionary (for `resolve`).
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return "/" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
