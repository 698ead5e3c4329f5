/// Size limits on account names and passwords from the network or the command line.
public enum AuthLimits {
    /// Longest password accepted for checking or hashing (bytes). Longer input is refused
    /// without hashing it, so a huge "password" cannot make a login expensive.
    public static let maxPasswordBytes = 1024
    /// Longest account name (bytes).
    public static let maxNameBytes = 512
    /// Longest stored password field parsed (bytes).
    public static let maxStoredHashBytes = 4096

    /// An account name worth looking up: not empty, at most `maxNameBytes`, no control
    /// characters (a CR or LF would end an authdaemon request line or reach a log line or reply).
    public static func isAcceptableName(_ user: String) -> Bool {
        !user.isEmpty && user.utf8.count <= maxNameBytes && !user.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }
}
