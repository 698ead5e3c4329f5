/// Public reading of Courier's file-or-directory sources and variable files, for the `make*`
/// commands that compile them (`makealiases`, `makesmtpaccess`).
public enum ConfigSources {
    /// A file, or every eligible file of a directory (spec/mta.md §3.25), as (path, bytes);
    /// nil when missing.
    public static func read(_ path: String) throws(ConfigError) -> [(String, [UInt8])]? {
        try FileAccess.readSource(path)
    }

    /// `VAR=value` files merged in order (later ones override, and see earlier values).
    public static func variables(_ paths: [String]) throws(ConfigError) -> ConfigVariables {
        var merged = ConfigVariables()
        for path in paths {
            guard let bytes = try FileAccess.read(path) else { continue }
            merged.merge(try VariableFileParser.parse(bytes, file: path, environment: merged.environment), file: path)
        }
        return merged
    }
}
