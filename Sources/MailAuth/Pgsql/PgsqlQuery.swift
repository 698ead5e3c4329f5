/// SQL text with `$n` placeholders and the values bound to them. User input only ever
/// travels as a bound value, never inside the SQL text.
public struct PgsqlStatement: Equatable, Sendable {
    public var sql: String
    public var binds: [String]
}

/// Builds authpgsql's queries (spec/access.md §4.7) as parameterised statements.
public enum PgsqlQueryBuilder {
    /// The login id split as Courier does: `local@domain`; without `@`, the domain is
    /// DEFAULT_DOMAIN (and the full id becomes `local@DEFAULT_DOMAIN`).
    public struct LoginName: Equatable, Sendable {
        public var full: String
        public var localPart: String
        public var domain: String
    }

    public static func loginName(_ user: String, defaultDomain: String?) -> LoginName {
        if let at = user.lastIndex(of: "@") {
            return LoginName(full: user, localPart: String(user[..<at]), domain: String(user[user.index(after: at)...]))
        }
        if let domain = defaultDomain, !domain.isEmpty {
            return LoginName(full: user + "@" + domain, localPart: user, domain: domain)
        }
        return LoginName(full: user, localPart: user, domain: "")
    }

    /// The account query. With PGSQL_SELECT_CLAUSE, that clause with `$(local_part)`,
    /// `$(domain)`, `$(service)` bound; else
    /// `SELECT login, crypt, clear, uid, gid, home, maildir, quota, name, options FROM table
    /// WHERE login = $1 [AND (PGSQL_WHERE_CLAUSE)]`, unset columns selected as `''`.
    public static func select(_ settings: PgsqlSettings, user: String, service: String) -> PgsqlStatement {
        let name = loginName(user, defaultDomain: settings.defaultDomain)
        let variables = ["local_part": name.localPart, "domain": name.domain, "service": service]
        if let custom = settings.selectClause {
            return substitute(custom, variables: variables)
        }
        func column(_ field: String?) -> String { field.map { "(\($0))" } ?? "''" }
        // Courier's local delivery asks with service "courier": then PGSQL_DEFAULTDELIVERY (when
        // set) takes the maildir column's place, and delivery uses it as the account's default.
        let maildirField = service == "courier" ? settings.defaultDelivery ?? settings.maildirField : settings.maildirField
        let columns = [settings.loginField, settings.cryptField, settings.clearField, settings.uidField, settings.gidField,
                       settings.homeField, maildirField, settings.quotaField, settings.nameField, settings.optionsField]
            .map(column)
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(settings.table) WHERE \(settings.loginField) = $1"
        var binds = [name.full]
        if let whereClause = settings.whereClause {
            let extra = substitute(whereClause, variables: variables, firstIndex: 2)
            sql += " AND (\(extra.sql))"
            binds += extra.binds
        }
        return PgsqlStatement(sql: sql, binds: binds)
    }

    /// The enumeration query: PGSQL_ENUMERATE_CLAUSE, or name, uid, gid, home, maildir, options of every row.
    public static func enumerate(_ settings: PgsqlSettings) -> PgsqlStatement {
        if let custom = settings.enumerateClause {
            return substitute(custom, variables: [:])
        }
        func column(_ field: String?) -> String { field.map { "(\($0))" } ?? "''" }
        let columns = [settings.loginField, settings.uidField, settings.gidField, settings.homeField,
                       settings.maildirField, settings.optionsField].map(column)
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(settings.table)"
        if let whereClause = settings.whereClause {
            let extra = substitute(whereClause, variables: [:])
            sql += " WHERE (\(extra.sql))"
            return PgsqlStatement(sql: sql, binds: extra.binds)
        }
        return PgsqlStatement(sql: sql, binds: [])
    }

    /// The password change: PGSQL_CHPASS_CLAUSE with `$(local_part)`, `$(domain)`, `$(newpass)`,
    /// `$(newpass_crypt)`; else an UPDATE of the crypt column (and the clear one when configured).
    public static func changePassword(_ settings: PgsqlSettings, user: String, newPassword: String, newCrypt: String) -> PgsqlStatement {
        let name = loginName(user, defaultDomain: settings.defaultDomain)
        if let custom = settings.changePasswordClause {
            return substitute(custom, variables: ["local_part": name.localPart, "domain": name.domain,
                                                  "newpass": newPassword, "newpass_crypt": newCrypt])
        }
        var sets = ["\(settings.cryptField) = $1"]
        var binds = [newCrypt]
        if let clear = settings.clearField {
            sets.append("\(clear) = $2")
            binds.append(newPassword)
        }
        binds.append(name.full)
        return PgsqlStatement(sql: "UPDATE \(settings.table) SET \(sets.joined(separator: ", ")) WHERE \(settings.loginField) = $\(binds.count)",
                              binds: binds)
    }

    /// Replaces each `$(name)` in an administrator's SQL template with a bound parameter.
    /// Inside a quoted literal (`'$(local_part)@$(domain)'`) the literal is split and joined
    /// with `||`, so the value is still bound and never pasted into the SQL text. Unknown names
    /// become the empty string. One parameter per distinct name.
    public static func substitute(_ template: String, variables: [String: String], firstIndex: Int = 1) -> PgsqlStatement {
        var sql = ""
        var binds: [String] = []
        var indexOf: [String: Int] = [:]
        var inLiteral = false
        var rest = Substring(template)
        while let character = rest.first {
            if character == "'" {
                // '' inside a literal is an escaped quote: stay inside.
                if inLiteral, rest.dropFirst().first == "'" {
                    sql += "''"
                    rest = rest.dropFirst(2)
                    continue
                }
                inLiteral.toggle()
                sql.append("'")
                rest = rest.dropFirst()
                continue
            }
            if character == "$", rest.dropFirst().first == "(", let close = rest.firstIndex(of: ")") {
                let name = String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close])
                rest = rest[rest.index(after: close)...]
                let placeholder: String
                if let value = variables[name] {
                    let index = indexOf[name] ?? {
                        binds.append(value)
                        let index = firstIndex + binds.count - 1
                        indexOf[name] = index
                        return index
                    }()
                    placeholder = "$\(index)::text"
                } else {
                    placeholder = "''"
                }
                sql += inLiteral ? "' || \(placeholder) || '" : placeholder
                continue
            }
            sql.append(character)
            rest = rest.dropFirst()
        }
        return PgsqlStatement(sql: sql, binds: binds)
    }
}
