/// Courier's virtual shared folders index (access.md §1.7 (A)): `shared/index` (or
/// `IMAP_SHAREDINDEXFILE`) lists the accounts whose folders other users may see under
/// `#shared.<account>.<folder>`, as far as each folder's ACL lets them. Records are
/// TAB-separated `name uid gid home [maildir]` (maildir relative to home, default `./Maildir`);
/// `name<TAB>*<TAB>file` makes a group whose accounts are listed in `file` (same directory),
/// shown as one more hierarchy level. Blank lines and `#` comments are skipped.
public struct SharedIndex: Sendable {
    /// One record of an index file.
    public enum Record: Equatable, Sendable {
        case account(name: String, maildir: String)
        case group(name: String, file: String)

        public var name: String {
            switch self {
            case .account(let n, _), .group(let n, _): n
            }
        }
    }

    /// The index file this universe starts from.
    public let indexFile: String
    /// `IMAP_SHAREDMUNGENAMES`: `.`→`\:`, `/`→`\;`, `\`→`\\` instead of spaces for `.` and `/`.
    public let mungeNames: Bool

    /// Groups nest at most this deep (Courier: "never create cycles"; we stop them).
    public static let maximumDepth = 8

    public init(indexFile: String, mungeNames: Bool = false) {
        self.indexFile = indexFile
        self.mungeNames = mungeNames
    }

    /// The index for an account: `sharedgroup=X` selects `index` + X in the same directory.
    public static func forAccount(indexFile: String, sharedGroup: String?, mungeNames: Bool) -> SharedIndex {
        guard let group = sharedGroup, !group.isEmpty, !group.contains("/") else {
            return SharedIndex(indexFile: indexFile, mungeNames: mungeNames)
        }
        return SharedIndex(indexFile: indexFile + group, mungeNames: mungeNames)
    }

    /// Parses an index file's bytes.
    public static func parse(_ bytes: [UInt8]) -> [Record] {
        var records: [Record] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            var l = line
            if l.last == UInt8(ascii: "\r") { l = l.dropLast() }
            guard let first = l.first, first != UInt8(ascii: "#") else { continue }
            let fields = l.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            guard fields.count >= 3, !fields[0].isEmpty, !fields[0].contains(where: { $0.asciiValue.map { $0 < 32 } ?? false }) else { continue }
            if fields[1] == "*" {
                records.append(.group(name: fields[0], file: fields[2]))
                continue
            }
            guard fields.count >= 4, !fields[3].isEmpty else { continue }
            let home = fields[3]
            var maildir = fields.count >= 5 && !fields[4].isEmpty ? fields[4] : "./Maildir"
            if !maildir.hasPrefix("/") {
                if maildir.hasPrefix("./") { maildir.removeFirst(2) }
                maildir = home + "/" + maildir
            }
            records.append(.account(name: fields[0], maildir: maildir))
        }
        return records
    }

    /// The records of an index file of this universe (`nil`: the top index).
    public func records(in file: String? = nil) -> [Record] {
        let path: String
        if let file {
            // Group files live in the index's directory; no path may lead elsewhere.
            guard !file.contains("/"), !file.hasPrefix(".") else { return [] }
            let directory = indexFile[..<(indexFile.lastIndex(of: "/") ?? indexFile.startIndex)]
            path = String(directory) + "/" + file
        } else {
            path = indexFile
        }
        guard let bytes = try? SystemCall.readFile(path, limit: 16 << 20) else { return [] }
        return Self.parse(bytes)
    }

    /// An account or group name as one IMAP hierarchy component.
    public func imapComponent(_ name: String) -> String {
        var out = ""
        for c in name {
            switch c {
            case ".": out += mungeNames ? "\\:" : " "
            case "/": out += mungeNames ? "\\;" : " "
            case "\\": out += mungeNames ? "\\\\" : "\\"
            default: out.append(c)
            }
        }
        return out
    }

    /// A shared account reached by a `#shared.` name.
    public struct Location: Equatable, Sendable {
        /// The hierarchy under `#shared.` that names the account (`bob`, `sales.bob`).
        public var prefix: [String]
        /// The account's maildir.
        public var maildir: String
        /// The folder owner's ACL identifier (Courier: `user=<group>` inside a group, else none).
        public var owner: String
    }

    /// Resolves the components after `#shared.` (`["bob", "Sent"]`): the account and the rest
    /// (its folder path, empty for its INBOX); nil if no account matches.
    public func resolve(_ components: [String]) -> (location: Location, rest: [String])? {
        var file: String? = nil
        var prefix: [String] = []
        var group: String? = nil
        var index = 0
        while index < components.count && prefix.count < Self.maximumDepth {
            let wanted = components[index]
            guard let record = records(in: file).first(where: { imapComponent($0.name) == wanted }) else { return nil }
            prefix.append(wanted)
            index += 1
            switch record {
            case .group(let name, let f):
                file = f
                group = name
            case .account(_, let maildir):
                let owner = group.map { "user=" + $0 } ?? "vendor=courier.internal"
                return (Location(prefix: prefix, maildir: maildir, owner: owner), Array(components[index...]))
            }
        }
        return nil
    }

    /// Every account of the universe, groups expanded (depth-limited).
    public func accounts() -> [Location] {
        var result: [Location] = []
        func walk(_ file: String?, _ prefix: [String], _ group: String?) {
            guard prefix.count < Self.maximumDepth else { return }
            for record in records(in: file) {
                let path = prefix + [imapComponent(record.name)]
                switch record {
                case .group(let name, let f): walk(f, path, name)
                case .account(_, let maildir):
                    result.append(Location(prefix: path, maildir: maildir,
                                           owner: group.map { "user=" + $0 } ?? "vendor=courier.internal"))
                }
            }
        }
        walk(nil, [], nil)
        return result
    }
}
