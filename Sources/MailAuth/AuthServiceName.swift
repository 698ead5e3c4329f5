/// The authlib service name of a listener's logins (spec/access.md §2, §3.1): the service
/// file's `AUTHSERVICE<port>` for the port it listens on (`AUTHSERVICE993=imaps`), unless unset
/// or empty, else the protocol's own name (`imap`, `pop3`). It picks the per-service password
/// (`imappw`, `pop3spw`…) and is `$(service)` in authpgsqlrc queries.
public enum AuthServiceName {
    /// `setting` reads one variable of the listener's service file.
    public static func forListener(port: Int, default name: String, setting: (String) -> String?) -> String {
        guard let configured = setting("AUTHSERVICE\(port)"), !configured.isEmpty else { return name }
        return configured
    }
}
