/// An account's options (spec/access.md §4.6): the comma list `name=value,…` of the userdb
/// `options` field or the SQL options column, merged with authdaemonrc's `DEFAULTOPTIONS`
/// (the account's own value wins). The servers enforce them; this type answers their questions.
public struct AccountOptions: Equatable, Sendable {
    /// (name, value) in order; a name may repeat (`group=`).
    public var items: [(String, String)]

    public init(items: [(String, String)] = []) {
        self.items = items
    }

    public static func == (lhs: AccountOptions, rhs: AccountOptions) -> Bool {
        lhs.items.elementsEqual(rhs.items) { $0 == $1 }
    }

    /// Parses `a=1,b=2,flag`; a bare name means `name=1`. Blanks around items are dropped.
    public init(parsing text: String) {
        var parsed: [(String, String)] = []
        // Scalars, not Characters: ",\u{0301}" is one Character and would hide the comma.
        for raw in text.unicodeScalars.split(separator: ",") {
            let item = String(raw).trimmingBlanks
            guard !item.isEmpty else { continue }
            let scalars = item.unicodeScalars
            if let equals = scalars.firstIndex(of: "=") {
                parsed.append((String(scalars[..<equals]), String(scalars[scalars.index(after: equals)...])))
            } else {
                parsed.append((item, "1"))
            }
        }
        items = parsed
    }

    /// These options, plus every default whose name the account does not set.
    public func merged(withDefaults defaults: AccountOptions) -> AccountOptions {
        let own = Set(items.map(\.0))
        return AccountOptions(items: items + defaults.items.filter { !own.contains($0.0) })
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        items.first { $0.0 == name }?.1
    }

    /// Every value of `name` (`group`).
    public func values(_ name: String) -> [String] {
        items.filter { $0.0 == name }.map(\.1)
    }

    /// True when option `name` is set to a true value (`1`, `y`, `yes`, `true`).
    public func isSet(_ name: String) -> Bool {
        guard let value = self[name]?.lowercased() else { return false }
        return value == "1" || value == "y" || value == "yes" || value == "true"
    }

    /// Why an account's options keep it from a service (each server words it its own way).
    public enum ServiceRefusal: Sendable, Equatable {
        /// `disable<service>=1`.
        case disabled
        /// `disableinsecure<service>=1` on a connection without TLS.
        case insecure
    }

    /// Why the account may not use `service` (`imap`, `pop3`, `webmail`) on this connection, or
    /// nil when it may. The `s` of `imaps`/`pop3s` is ignored. `encrypted`: whether the
    /// connection uses TLS, for `disableinsecureimap`/`disableinsecurepop3`.
    public func refusal(service: String, encrypted: Bool) -> ServiceRefusal? {
        var base = service.lowercased()
        if base == "imaps" || base == "pop3s" { base.removeLast() }
        if isSet("disable" + base) { return .disabled }
        return !encrypted && isSet("disableinsecure" + base) ? .insecure : nil
    }

    /// True when the account may not use `service` on this connection (see `refusal`).
    public func disables(service: String, encrypted: Bool) -> Bool {
        refusal(service: service, encrypted: encrypted) != nil
    }

    /// `disableshared=1`: no shared folders, and `authenumerate -s` skips the account.
    public var disablesSharedFolders: Bool { isSet("disableshared") }

    /// The options as Courier writes them (`OPTIONS=` line, authtest).
    public var text: String {
        items.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }
}

extension StringProtocol {
    var trimmingBlanks: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
