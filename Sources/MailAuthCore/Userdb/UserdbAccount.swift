import MailConfig

/// One userdb account as a lookup returns it: the fields of `userdb.dat` and, when readable,
/// `userdbshadow.dat` (spec/access.md §4.4).
public struct UserdbAccount: Equatable, Sendable {
    public var name: String
    /// Fields in stored order (non-password fields first, then the `*pw` fields).
    public var fields: [(String, String)]

    public init(name: String, fields: [(String, String)]) {
        self.name = name
        self.fields = fields
    }

    public static func == (lhs: UserdbAccount, rhs: UserdbAccount) -> Bool {
        lhs.name == rhs.name && lhs.fields.elementsEqual(rhs.fields) { $0 == $1 }
    }

    public subscript(field: String) -> String? {
        fields.first { $0.0 == field }?.1
    }

    public var uid: String? { self["uid"] }
    public var gid: String? { self["gid"] }
    public var home: String? { self["home"] }
    /// The maildir (`mail` field).
    public var maildir: String? { self["mail"] }
    public var quota: String? { self["quota"] }
    public var options: String? { self["options"] }
    public var fullName: String? { self["gecos"] }

    /// The password field for `service`: `<service>pw` when present, else `systempw`
    /// (a service password replaces the system one for that service).
    public func passwordField(service: String) -> String? {
        if !service.isEmpty, let specific = self[service + "pw"] { return specific }
        return self["systempw"]
    }

    /// The HMAC state for CRAM: `<service>-hmac-md5pw` when present, else `hmac-md5pw`.
    public func hmacState(_ algorithm: CramAlgorithm, service: String) -> String? {
        if !service.isEmpty, let specific = self[service + "-" + algorithm.userdbField] { return specific }
        return self[algorithm.userdbField]
    }

    /// Splits the stored field text (`f=v|f=v`) into fields.
    public static func parseFields(_ bytes: [UInt8]) -> [(String, String)] {
        bytes.split(separator: UInt8(ascii: "|")).compactMap { item in
            guard let equals = item.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            return (String(decoding: item[..<equals], as: UTF8.self), String(decoding: item[(equals + 1)...], as: UTF8.self))
        }
    }

    /// True when the field goes to `userdbshadow.dat` (its name ends in `pw`).
    public static func isSecretField(_ name: String) -> Bool {
        name.hasSuffix("pw")
    }

    public init(record: UserdbRecord) {
        self.init(name: record.name, fields: record.fields)
    }
}
