/// An account as authdaemond reports it: `KEY=value` lines (spec/access.md §4.2: `USERNAME`,
/// `UID`, `GID`, `HOME`, `ADDRESS`, `NAME`, `MAILDIR`, `QUOTA`, `PASSWD`, `PASSWD2`, `OPTIONS`).
public struct AuthDaemonAccount: Equatable, Sendable {
    /// Keys in reply order; keys without a value are not sent.
    public var fields: [(String, String)]

    public init(fields: [(String, String)]) {
        self.fields = fields.filter { !$0.1.isEmpty }
    }

    public static func == (lhs: AuthDaemonAccount, rhs: AuthDaemonAccount) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0 == $1 }
    }

    public subscript(key: String) -> String? {
        fields.first { $0.0 == key }?.1
    }

    public var address: String? { self["ADDRESS"] }
    public var systemUser: String? { self["USERNAME"] }
    public var uid: String? { self["UID"] }
    public var gid: String? { self["GID"] }
    public var home: String? { self["HOME"] }
    public var maildir: String? { self["MAILDIR"] }
    public var quota: String? { self["QUOTA"] }
    public var options: String? { self["OPTIONS"] }
    public var fullName: String? { self["NAME"] }
    public var cryptedPassword: String? { self["PASSWD"] }
    public var clearPassword: String? { self["PASSWD2"] }

    /// The mail directory: `MAILDIR`, else `HOME/Maildir`.
    public var effectiveMaildir: String? {
        if let maildir { return maildir }
        return home.map { $0 + "/Maildir" }
    }

    /// The success reply: one `KEY=value` line per field, then `.`. Values cannot hold a
    /// newline (it would end the field): a newline is sent as a space.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for (key, value) in fields {
            out += key.utf8
            out.append(UInt8(ascii: "="))
            out += value.utf8.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
            out.append(UInt8(ascii: "\n"))
        }
        out += Array(".\n".utf8)
        return out
    }
}

/// One line of an `ENUMERATE` reply: `name<TAB>uid<TAB>gid<TAB>home<TAB>maildir<TAB>options`.
public struct AuthDaemonEnumeratedAccount: Equatable, Sendable {
    public var name: String
    public var uid: String
    public var gid: String
    public var home: String
    public var maildir: String
    public var options: String

    public init(name: String, uid: String, gid: String, home: String, maildir: String, options: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.maildir = maildir
        self.options = options
    }

    /// The fields joined by tabs; a tab or newline inside a field is sent as a space (bytes,
    /// not characters: "\r\n" is one Character and would slip through a Character test).
    var line: [UInt8] {
        var out: [UInt8] = []
        for (index, field) in [name, uid, gid, home, maildir, options].enumerated() {
            if index > 0 { out.append(UInt8(ascii: "\t")) }
            out += field.utf8.map { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 }
        }
        return out
    }
}

/// Encodes and decodes the daemon's replies (spec/access.md §4.2).
public enum AuthDaemonReply {
    public static let fail = Array("FAIL\n".utf8)
    public static let ok = Array("OK\n".utf8)

    /// The `ENUMERATE` reply: per module `# <name>` and an empty line, its accounts, then `.`.
    public static func enumeration(_ modules: [(name: String, accounts: [AuthDaemonEnumeratedAccount])]) -> [UInt8] {
        var out: [UInt8] = []
        for module in modules {
            out += Array("# \(module.name.filter { $0 != "\n" && $0 != "\r\n" })\n\n".utf8)
            for account in module.accounts {
                out += account.line
                out.append(UInt8(ascii: "\n"))
            }
        }
        out += Array(".\n".utf8)
        return out
    }

    /// How a reply to PRE or AUTH reads.
    public enum AccountOutcome: Equatable, Sendable {
        case account(AuthDaemonAccount)
        case fail
        /// Not a whole reply: the daemon stopped answering (a temporary failure for the client).
        case incomplete
    }

    /// Reads the reply to PRE or AUTH.
    public static func decodeAccount(_ bytes: some Collection<UInt8>) -> AccountOutcome {
        var fields: [(String, String)] = []
        for line in lines(bytes) {
            guard let line else { return .incomplete }
            if fields.isEmpty, line.elementsEqual("FAIL".utf8) { return .fail }
            if line.elementsEqual(".".utf8) { return .account(AuthDaemonAccount(fields: fields)) }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            fields.append((String(decoding: line[..<equals], as: UTF8.self),
                           String(decoding: line[(equals + 1)...], as: UTF8.self)))
        }
        return .incomplete
    }

    /// Reads the reply to PASSWD: true for `OK`, false for `FAIL`, nil when there was none.
    public static func decodeStatus(_ bytes: some Collection<UInt8>) -> Bool? {
        for line in lines(bytes) {
            guard let line else { return nil }
            if line.elementsEqual("OK".utf8) { return true }
            if line.elementsEqual("FAIL".utf8) { return false }
            return nil
        }
        return nil
    }

    /// Reads the reply to ENUMERATE (comment and empty lines skipped); nil when it did not end
    /// with `.`.
    public static func decodeEnumeration(_ bytes: some Collection<UInt8>) -> [AuthDaemonEnumeratedAccount]? {
        var accounts: [AuthDaemonEnumeratedAccount] = []
        for line in lines(bytes) {
            guard let line else { return nil }
            if line.elementsEqual(".".utf8) { return accounts }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            guard fields.count >= 4 else { continue }
            func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
            accounts.append(AuthDaemonEnumeratedAccount(name: field(0), uid: field(1), gid: field(2), home: field(3),
                                                        maildir: field(4), options: field(5)))
        }
        return nil
    }

    /// The complete lines of `bytes`; a last element nil when bytes end inside a line.
    static func lines(_ bytes: some Collection<UInt8>) -> [ArraySlice<UInt8>?] {
        let all = Array(bytes)
        var result: [ArraySlice<UInt8>?] = []
        var start = 0
        while start < all.count {
            guard let newline = all[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                result.append(nil)
                break
            }
            result.append(all[start..<newline])
            start = newline + 1
        }
        return result
    }
}
