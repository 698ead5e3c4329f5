#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `maildrop -M NAME` (tools.md §1.1): embedded mode for the invoking user with the filter
/// taken from `$HOME/.mailfilters/`, with "-default" fallbacks, so that a mail server can ask
/// one user's filter a question (the filter answers with `echo` and `EXITCODE`).
enum EmbeddedFilter {
    /// The directory, relative to the home directory maildrop changed to.
    static let directory = ".mailfilters"
    static let defaultSuffix = "-default"

    /// The name as Courier uses it: every `/` and `.` becomes `:` (no way out of the directory).
    static func transformedName(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ".") ? UInt8(ascii: ":") : $0 },
               as: UTF8.self)
    }

    /// The file names tried in order: `NAME`, `NAME-default`, then for each `-part` removed
    /// from the end `PREFIX-default`, finally `default`. For `a-b-c`: `a-b-c`, `a-b-c-default`,
    /// `a-b-default`, `a-default`, `default`.
    static func candidates(_ name: String) -> [String] {
        var result = [name, name + defaultSuffix]
        var stem = Array(name.utf8)
        while let dash = stem.lastIndex(of: UInt8(ascii: "-")) {
            stem.removeSubrange(dash...)
            result.append(String(decoding: stem, as: UTF8.self) + defaultSuffix)
        }
        result.append(String(defaultSuffix.dropFirst()))
        return result
    }

    /// Courier's checks of `$HOME/.mailfilters` (in the current directory): if it exists it
    /// must be a directory owned by us with no group or world permissions. nil: fine.
    static func checkDirectory(_ path: String = directory) -> String? {
        var st = stat()
        if stat(path, &st) != 0 {
            return errno == ENOENT ? nil : "Unable to read $HOME/.mailfilters."
        }
        if st.st_mode & S_IFMT != S_IFDIR { return "$HOME/.mailfilters should be a directory." }
        if st.st_mode & 0o077 != 0 { return "Invalid permissions on $HOME/.mailfilters - remove world and group perms." }
        if st.st_uid != getuid() { return "Invalid user ownership of $HOME/.mailfilters." }
        return nil
    }
}
