/// One line of a `courierimapacl` file: an identifier (`owner`, `anyone`, `user=bob`,
/// `group=staff`, `administrators`, or any of them after `-` for rights taken away) and its rights.
public struct ACLEntry: Hashable, Sendable {
    public var identifier: String
    public var rights: ACLRights
    public init(identifier: String, rights: ACLRights) {
        self.identifier = identifier
        self.rights = rights
    }
    /// A `-identifier` entry (RFC 4314 §2: negative rights).
    public var isNegative: Bool { identifier.utf8.first == UInt8(ascii: "-") }
}

/// Why an ACL may not be saved (access.md §1.6: the owner keeps `a` and `l`, administrators
/// keep every right).
public enum ACLValidationError: Error, Equatable, Sendable {
    /// This identifier (`owner` or the folder's owner, `user=bob`) would lose `a` or `l`.
    case minimumRights(identifier: String)
    /// `administrators` would lose a right.
    case administratorsNeedAllRights
}

/// A folder's access control list in Courier's order and model (ACL2=UNION, RFC 4314 §2):
/// the rights of a user are the union of the rights of every entry naming them, minus the
/// union of every negative entry naming them; the owner always has `a`.
public struct ACLList: Hashable, Sendable {
    public private(set) var entries: [ACLEntry]

    public init(entries: [ACLEntry] = []) { self.entries = entries }

    /// INBOX's ACL when it has no file: the owner and administrators have every right.
    public static let inboxDefault = ACLList(entries: [
        ACLEntry(identifier: "owner", rights: .all),
        ACLEntry(identifier: "administrators", rights: .all),
    ])

    // MARK: the file

    /// Parses a `courierimapacl` file: `identifier rights` per line (identifier up to the first
    /// space, rights after any further spaces). Identifiers with control characters are skipped;
    /// `administrators` always gets every right (added if missing).
    public static func parse(_ bytes: [UInt8]) -> ACLList {
        var list = ACLList()
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            guard !line.isEmpty else { continue }
            let space = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
            let identifier = line[line.startIndex..<space]
            var rightsStart = space
            while rightsStart < line.endIndex && line[rightsStart] == UInt8(ascii: " ") { rightsStart += 1 }
            guard let name = String(validating: identifier, as: UTF8.self) else { continue }
            list.set(name, ACLRights(line[rightsStart...]))
        }
        list.addDefaultAdministrators()
        return list
    }

    /// The file's bytes, one `identifier rights` line per entry.
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        for e in entries {
            out += Array(e.identifier.utf8)
            out.append(UInt8(ascii: " "))
            out += e.rights.letters
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Courier's rule on reading: `administrators` (or `group=administrators`, which then
    /// replaces it) holds every right, and negative entries for them never take `l` or `a`.
    mutating func addDefaultAdministrators() {
        if let group = rights(of: "group=administrators") {
            set("group=administrators", ACLRights.all.union(group))
            remove("administrators")
        } else {
            set("administrators", ACLRights.all.union(rights(of: "administrators") ?? .none))
        }
        for negative in ["-administrators", "-group=administrators"] {
            guard let r = rights(of: negative) else { continue }
            let kept = r.subtracting("al")
            if kept.isEmpty { remove(negative) } else { set(negative, kept) }
        }
    }

    // MARK: editing

    public func rights(of identifier: String) -> ACLRights? {
        entries.first { $0.identifier == identifier }?.rights
    }

    /// Replaces the identifier's rights in place, or appends a new entry. Identifiers with
    /// control characters (or a space or newline, which the file cannot hold) are ignored.
    public mutating func set(_ identifier: String, _ rights: ACLRights) {
        guard !identifier.isEmpty, !identifier.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else { return }
        if let i = entries.firstIndex(where: { $0.identifier == identifier }) {
            entries[i].rights = rights
        } else {
            entries.append(ACLEntry(identifier: identifier, rights: rights))
        }
    }

    public mutating func remove(_ identifier: String) {
        entries.removeAll { $0.identifier == identifier }
    }

    // MARK: rights

    /// ACL2=UNION (RFC 4314 §2): union of the entries whose identifier `matches` (plus `anyone`
    /// and `anonymous`, which name everybody; `administrators` and `group=administrators` name
    /// the same group), minus the union of the matching negative entries. When `ownerGetsAdminister`
    /// and `matches("owner")`, the result always holds `a`.
    public func compute(ownerGetsAdminister: Bool = true, matches: (String) -> Bool) -> ACLRights {
        func names(_ identifier: Substring) -> Bool {
            switch identifier {
            case "anyone", "anonymous": return true
            case "administrators", "group=administrators":
                return matches("administrators") || matches("group=administrators")
            default: return matches(String(identifier))
            }
        }
        var granted = ACLRights.none
        for e in entries where !e.isNegative && names(Substring(e.identifier)) {
            granted = granted.union(e.rights)
        }
        for e in entries where e.isNegative && names(e.identifier.dropFirst()) {
            granted = granted.subtracting(e.rights)
        }
        if ownerGetsAdminister && matches("owner") { granted = granted.union("a") }
        return granted
    }

    /// The rights of the logged-in `user` on a folder owned by `owner` (`user=<login>`), with the
    /// account's `OPTIONS` (every `group=<name>` in it makes the user a member of that group).
    public func rights(user: String, owner: String, options: String) -> ACLRights {
        var identities: Set<String> = ["user=" + user]
        if "user=" + user == owner { identities.insert("owner") }
        for option in options.split(separator: ",") where option.hasPrefix("group=") && option.count > 6 {
            identities.insert(String(option))
        }
        return compute { identities.contains($0) }
    }

    /// Courier's checks before saving: `owner` (and the folder's real owner, when given) keeps
    /// `a` and `l`; `administrators` keeps every right.
    public func validate(owner: String) throws(ACLValidationError) {
        let lookupAdminister: ACLRights = "al"
        if !compute(ownerGetsAdminister: false, matches: { $0 == "owner" }).contains(lookupAdminister) {
            throw .minimumRights(identifier: "owner")
        }
        if !owner.isEmpty,
           !compute(ownerGetsAdminister: false, matches: { $0 == "owner" || $0 == owner }).contains(lookupAdminister) {
            throw .minimumRights(identifier: owner)
        }
        if !compute(matches: { $0 == "administrators" }).contains(ACLRights.all) {
            throw .administratorsNeedAllRights
        }
    }
}
