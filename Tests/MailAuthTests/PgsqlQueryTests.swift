import Glibc
import MailConfig
import Testing
@testable import MailAuth

@Test func defaultSelectBindsTheLogin() throws {
    var settings = PgsqlSettings()
    settings.defaultDomain = "example.test"
    #expect(PgsqlQueryBuilder.select(settings, user: "alice", service: "imap") == PgsqlStatement(
        sql: "SELECT (id), (crypt), '', (uid), (gid), (home), '', '', (name), '' FROM passwd WHERE id = $1",
        binds: ["alice@example.test"]))
    settings.clearField = "clear"
    settings.maildirField = "maildir"
    settings.quotaField = "quota"
    settings.whereClause = "enabled AND service_ok('$(service)')"
    #expect(PgsqlQueryBuilder.select(settings, user: "bob@other.test", service: "pop3") == PgsqlStatement(
        sql: "SELECT (id), (crypt), (clear), (uid), (gid), (home), (maildir), (quota), (name), '' FROM passwd WHERE id = $1 AND (enabled AND service_ok('' || $2::text || ''))",
        binds: ["bob@other.test", "pop3"]))
}

@Test func customSelectClauseNeverPastesUserInput() {
    var settings = PgsqlSettings()
    settings.defaultDomain = "example.test"
    settings.selectClause = "SELECT id, crypt, '', uid, gid, home, maildir, '', name, '' FROM users WHERE local = '$(local_part)' AND dom = '$(domain)' OR id = '$(local_part)@$(domain)' AND x = $(unknown) AND note = 'it''s $(service)'"
    let statement = PgsqlQueryBuilder.select(settings, user: "o'brien'; DROP TABLE users; --", service: "imap")
    #expect(statement.sql == "SELECT id, crypt, '', uid, gid, home, maildir, '', name, '' FROM users WHERE local = '' || $1::text || '' AND dom = '' || $2::text || '' OR id = '' || $1::text || '@' || $2::text || '' AND x = '' AND note = 'it''s ' || $3::text || ''")
    #expect(statement.binds == ["o'brien'; DROP TABLE users; --", "example.test", "imap"])
    #expect(!statement.sql.contains("DROP"))
}

@Test func changePasswordAndEnumerate() {
    var settings = PgsqlSettings()
    settings.clearField = "clear"
    #expect(PgsqlQueryBuilder.changePassword(settings, user: "a@b", newPassword: "n", newCrypt: "$6$x") == PgsqlStatement(
        sql: "UPDATE passwd SET crypt = $1, clear = $2 WHERE id = $3", binds: ["$6$x", "n", "a@b"]))
    settings.changePasswordClause = "UPDATE t SET pw = '$(newpass_crypt)' WHERE u = '$(local_part)' AND d = '$(domain)'"
    #expect(PgsqlQueryBuilder.changePassword(settings, user: "a@b", newPassword: "n", newCrypt: "$6$x").binds == ["$6$x", "a", "b"])
    #expect(PgsqlQueryBuilder.enumerate(PgsqlSettings()).sql == "SELECT (id), (uid), (gid), (home), '', '' FROM passwd")
}

@Test func authpgsqlrcSettings() throws {
    let text = """
        # comment
        PGSQL_CONNECTION  host=127.0.0.1 port=5499 user=courier password='se cret\\'s' dbname=mail
        PGSQL_USER_TABLE\tusers
        PGSQL_CLEAR_PWFIELD clear
        PGSQL_WHERE_CLAUSE active = 1 \\
            AND verified
        DEFAULT_DOMAIN example.test
        PGSQL_TIMEOUT 3
        """
    let settings = try PgsqlSettings(parsing: Array(text.utf8), file: "authpgsqlrc")
    #expect(settings.host == "127.0.0.1" && settings.port == 5499 && settings.user == "courier")
    #expect(settings.password == "se cret's" && settings.database == "mail")
    #expect(settings.table == "users" && settings.clearField == "clear")
    #expect(settings.whereClause == "active = 1     AND verified")
    #expect(settings.defaultDomain == "example.test" && settings.timeoutSeconds == 3)
    #expect(throws: ConfigError.self) { try PgsqlSettings(parsing: Array("PGSQL_PORT 99999\n".utf8), file: "f") }
    #expect(throws: ConfigError.self) { try PgsqlSettings(parsing: Array("PGSQL_CONNECTION host\n".utf8), file: "f") }
    let old = try PgsqlSettings(parsing: Array("PGSQL_HOST db\nPGSQL_PORT 6000\nPGSQL_USERNAME u\nPGSQL_PASSWORD p\nPGSQL_DATABASE d\n".utf8), file: "f")
    #expect(old.host == "db" && old.port == 6000 && old.user == "u" && old.password == "p" && old.database == "d")
}

@Test func authdaemonrcModuleList() throws {
    let directory = temporaryDirectory()
    mkdir(directory + "/etc", 0o755)
    writeFile(directory + "/etc/authdaemonrc", "authmodulelist=\"authuserdb authpam\"\n", mode: 0o644)
    #expect(throws: ConfigError.self) { try AuthConfiguration.load(root: ConfigRoot(path: directory)) }
    writeFile(directory + "/etc/authdaemonrc", "authmodulelist=\"authpgsql authuserdb\"\nDEFAULTOPTIONS=\"disableshared=1\"\n", mode: 0o644)
    #expect(throws: ConfigError.self) { try AuthConfiguration.load(root: ConfigRoot(path: directory)) }   // no authpgsqlrc
    writeFile(directory + "/etc/authpgsqlrc", "PGSQL_PORT 5433\n", mode: 0o640)
    let loaded = try AuthConfiguration.load(root: ConfigRoot(path: directory))
    #expect(loaded.moduleNames == ["authpgsql", "authuserdb"])
    #expect(loaded.pgsql?.port == 5433)
    #expect(loaded.defaultOptions.text == "disableshared=1")
}

@Test func courierServiceSelectsDefaultDeliveryInTheMaildirPlace() {
    var settings = PgsqlSettings()
    settings.maildirField = "maildir"
    #expect(PgsqlQueryBuilder.select(settings, user: "a@x", service: "courier").sql.contains("(home), (maildir), ''"))
    settings.defaultDelivery = "defaultdelivery"
    #expect(PgsqlQueryBuilder.select(settings, user: "a@x", service: "courier").sql.contains("(home), (defaultdelivery), ''"))
    #expect(PgsqlQueryBuilder.select(settings, user: "a@x", service: "imap").sql.contains("(home), (maildir), ''"))
}
