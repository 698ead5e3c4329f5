/// The protocol states of RFC 3501 §3 as a set, for the command table.
public struct SessionStates: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let notAuthenticated = SessionStates(rawValue: 1)
    public static let authenticated = SessionStates(rawValue: 2)
    public static let selected = SessionStates(rawValue: 4)
    public static let any: SessionStates = [.notAuthenticated, .authenticated, .selected]
    public static let loggedIn: SessionStates = [.authenticated, .selected]
}

/// Per command: the states where it is valid (RFC 3501 §6, RFC 9051 §6), checked before
/// dispatch (STYLE.md §4).
public enum CommandTable {
    public static func allowedStates(_ command: Command) -> SessionStates {
        switch command {
        case .capability, .noop, .logout, .id: .any
        case .starttls, .authenticate, .login: .notAuthenticated
        case .enable, .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .namespace,
             .status, .append, .idle, .getQuota, .getQuotaRoot, .setQuota, .getACL, .myRights, .listRights, .setACL,
             .deleteACL: .loggedIn
        case .check, .close, .unselect, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move, .sort, .thread:
            .selected
        }
    }
}
