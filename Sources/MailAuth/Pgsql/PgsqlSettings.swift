import MailConfig

/// `authpgsqlrc` (spec/access.md §4.7) as typed settings. Connection: `PGSQL_CONNECTION` (a
/// libpq conninfo string: `host=… port=… user=… password=… dbname=…`) or the older separate keys
/// `PGSQL_HOST`, `PGSQL_PORT`, `PGSQL_USERNAME`, `PGSQL_PASSWORD`; `PGSQL_DATABASE`.
/// Ours: `PGSQL_TIMEOUT` (seconds a lookup may take before it is a temporary failure, default 5)
/// and `PGSQL_MAX_CONNECTIONS` (pool size, default 10).
public struct PgsqlSettings: Equatable, Sendable {
    public var host = "localhost"
    public var port = 5432
    public var user = "postgres"
    public var password: String?
    public var database = "template1"
    public var table = "passwd"
    public var loginField = "id"
    public var cryptField = "crypt"
    public var clearField: String?
    public var uidField = "uid"
    public var gidField = "gid"
    public var homeField = "home"
    public var nameField = "name"
    public var maildirField: String?
    public var quotaField: String?
    public var optionsField: String?
    public var defaultDelivery: String?
    public var whereClause: String?
    public var selectClause: String?
    public var enumerateClause: String?
    public var changePasswordClause: String?
    public var defaultDomain: String?
    public var timeoutSeconds = 5
    public var maxConnections = 10

    public init() {}

    /// Reads the settings from the file's bytes; `file` names it in errors.
    public init(parsing bytes: [UInt8], file: String) throws(ConfigError) {
        let values = try AuthRCParser.parse(bytes, file: file)
        func value(_ key: String) -> String? {
            guard let found = values[key]?.value, !found.isEmpty else { return nil }
            return found
        }
        func number(_ key: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int? {
            guard let text = value(key) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigError(file: file, line: values[key]?.line, reason: "\(key) \(text): expected a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        host = value("PGSQL_HOST") ?? host
        port = try number("PGSQL_PORT", 1...65535) ?? port
        user = value("PGSQL_USERNAME") ?? user
        password = value("PGSQL_PASSWORD")
        database = value("PGSQL_DATABASE") ?? database
        if let connection = value("PGSQL_CONNECTION") {
            guard let parsed = Self.parseConnectionInfo(connection) else {
                throw ConfigError(file: file, line: values["PGSQL_CONNECTION"]?.line,
                                  reason: "PGSQL_CONNECTION: expected 'key=value key=value …' (libpq conninfo)")
            }
            for (key, item) in parsed {
                switch key {
                case "host", "hostaddr": host = item
                case "port":
                    guard let number = Int(item), (1...65535).contains(number) else {
                        throw ConfigError(file: file, line: values["PGSQL_CONNECTION"]?.line, reason: "PGSQL_CONNECTION: bad port '\(item)'")
                    }
                    port = number
                case "user": user = item
                case "password": password = item
                case "dbname": database = item
                default: break   // sslmode, connect_timeout, …: not used
                }
            }
        }
        table = value("PGSQL_USER_TABLE") ?? table
        loginField = value("PGSQL_LOGIN_FIELD") ?? loginField
        cryptField = value("PGSQL_CRYPT_PWFIELD") ?? cryptField
        clearField = value("PGSQL_CLEAR_PWFIELD")
        uidField = value("PGSQL_UID_FIELD") ?? uidField
        gidField = value("PGSQL_GID_FIELD") ?? gidField
        homeField = value("PGSQL_HOME_FIELD") ?? homeField
        nameField = value("PGSQL_NAME_FIELD") ?? nameField
        maildirField = value("PGSQL_MAILDIR_FIELD")
        quotaField = value("PGSQL_QUOTA_FIELD")
        optionsField = value("PGSQL_AUXOPTIONS_FIELD")
        defaultDelivery = value("PGSQL_DEFAULTDELIVERY")
        whereClause = value("PGSQL_WHERE_CLAUSE")
        selectClause = value("PGSQL_SELECT_CLAUSE")
        enumerateClause = value("PGSQL_ENUMERATE_CLAUSE")
        changePasswordClause = value("PGSQL_CHPASS_CLAUSE")
        defaultDomain = value("DEFAULT_DOMAIN")
        timeoutSeconds = try number("PGSQL_TIMEOUT", 1...600) ?? timeoutSeconds
        maxConnections = try number("PGSQL_MAX_CONNECTIONS", 1...1000) ?? maxConnections
    }

    /// libpq conninfo: `key=value` pairs separated by blanks; a value may be single-quoted
    /// with `\'` and `\\` escapes. Nil when malformed.
    public static func parseConnectionInfo(_ text: String) -> [(String, String)]? {
        var result: [(String, String)] = []
        var characters = Array(text)[...]
        func skipBlanks() { while let first = characters.first, first == " " || first == "\t" { characters = characters.dropFirst() } }
        skipBlanks()
        while !characters.isEmpty {
            var key = ""
            while let first = characters.first, first != "=", first != " " { key.append(first); characters = characters.dropFirst() }
            skipBlanks()
            guard !key.isEmpty, characters.first == "=" else { return nil }
            characters = characters.dropFirst()
            skipBlanks()
            var value = ""
            if characters.first == "'" {
                characters = characters.dropFirst()
                var closed = false
                while let first = characters.popFirst() {
                    if first == "\\", let next = characters.popFirst() { value.append(next); continue }
                    if first == "'" { closed = true; break }
                    value.append(first)
                }
                guard closed else { return nil }
            } else {
                while let first = characters.first, first != " ", first != "\t" {
                    if first == "\\", characters.count > 1 {
                        characters = characters.dropFirst()
                    }
                    value.append(characters.first ?? first)
                    characters = characters.dropFirst()
                }
            }
            result.append((key, value))
            skipBlanks()
        }
        return result
    }
}
