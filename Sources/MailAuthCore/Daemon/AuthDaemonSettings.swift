import MailConfig

/// What a client of the authdaemon socket needs from `etc/authdaemonrc`: where the socket is
/// (`authdaemonvar`, Courier's socket directory; ours defaults to `DIR/var/run/authdaemon`),
/// the module list (to know whether the userdb alone can answer when no daemon runs), and
/// `DEFAULTOPTIONS`.
public struct AuthDaemonSettings: Sendable, Equatable {
    /// The directory that holds the socket.
    public var directory: String
    public var moduleNames: [String]
    public var defaultOptions: AccountOptions

    /// The socket: `<authdaemonvar>/socket`, as Courier names it.
    public var socketPath: String { directory + "/socket" }

    public static func defaultDirectory(root: ConfigRoot) -> String {
        root.path + "/var/run/authdaemon"
    }

    public init(directory: String, moduleNames: [String] = ["authuserdb"], defaultOptions: AccountOptions = AccountOptions()) {
        self.directory = directory
        self.moduleNames = moduleNames
        self.defaultOptions = defaultOptions
    }

    /// Reads `root/etc/authdaemonrc`. A relative `authdaemonvar` is taken relative to the root.
    public init(root: ConfigRoot) throws(ConfigError) {
        let path = root.etc("authdaemonrc")
        var variables = ConfigVariables()
        let bytes: [UInt8]?
        do {
            bytes = try AuthFiles.read(path, limit: ConfigLimits.maxFileBytes)
        } catch {
            throw ConfigError(file: path, line: nil, reason: error.reason)
        }
        if let bytes {
            variables.merge(try VariableFileParser.parse(bytes, file: path), file: path)
        }
        try self.init(variables: variables, root: root)
    }

    /// The settings from already-read authdaemonrc variables.
    public init(variables: ConfigVariables, root: ConfigRoot) throws(ConfigError) {
        var directory = Self.defaultDirectory(root: root)
        if let given = variables["authdaemonvar"], !given.isEmpty {
            directory = given.hasPrefix("/") ? given : root.path + "/" + given
        }
        let names = (variables["authmodulelist"] ?? "authuserdb").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        self.init(directory: directory, moduleNames: names,
                  defaultOptions: AccountOptions(parsing: variables["DEFAULTOPTIONS"] ?? ""))
    }
}
