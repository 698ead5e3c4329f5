/// Which files of a directory source (`aliases/`, `smtpaccess/`, `hosteddomains/`,
/// `esmtpacceptmailfor.dir/`) are read, and in what order (spec/mta.md §3.0, §3.25).
public enum DirectorySource {
    /// A file name as listed, with its modification time (seconds) for the `.dist` rule.
    public struct Candidate: Equatable, Sendable {
        public var name: String
        public var modified: Int
        public var isRegularFile: Bool

        public init(name: String, modified: Int, isRegularFile: Bool = true) {
            self.name = name
            self.modified = modified
            self.isRegularFile = isRegularFile
        }
    }

    /// The names to read, sorted by name (bytewise, as `ls` in the C locale), from the
    /// entries of `directory`:
    /// - hidden files, subdirectories and names containing `~` are skipped;
    /// - `.rpmsave`, `.rpmnew` and `.dpkg-*` leftovers are an error: a package upgrade left
    ///   two versions and the administrator must pick one;
    /// - `X.dist` is skipped when `X` exists and is newer; otherwise it is an error.
    public static func select(_ candidates: [Candidate], directory: String) throws(ConfigError) -> [String] {
        let byName = Dictionary(candidates.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var names: [String] = []
        for candidate in candidates where candidate.isRegularFile {
            let name = candidate.name
            if name.hasPrefix(".") || name.contains("~") { continue }
            if name.hasSuffix(".rpmsave") || name.hasSuffix(".rpmnew") || name.contains(".dpkg-") {
                throw ConfigError(file: directory + "/" + name, line: nil,
                                  reason: "package manager leftover; merge it into the real file and remove it")
            }
            if name.hasSuffix(".dist") {
                let base = String(name.dropLast(5))
                if let current = byName[base], current.modified >= candidate.modified { continue }
                throw ConfigError(file: directory + "/" + name, line: nil,
                                  reason: "newer than \(base): merge the new defaults into \(base) and remove \(name)")
            }
            names.append(name)
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
