#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Charset names: normalisation for comparison, and the default charset of the process.
public enum CharsetName {
    /// A canonical spelling for comparing charset names: uppercased, with the common
    /// aliases folded (`utf8` → `UTF-8`, `latin1` → `ISO-8859-1`, `ascii` → `US-ASCII`).
    /// Conversion itself passes names to iconv unchanged.
    public static func normalized(_ name: String) -> String {
        let upper = String(decoding: name.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 32 : $0 }, as: UTF8.self)
        switch upper {
        case "UTF8": return "UTF-8"
        case "LATIN1", "ISO8859-1", "ISO_8859-1", "ISO-8859-1", "L1": return "ISO-8859-1"
        case "ASCII", "US-ASCII", "ANSI_X3.4-1968", "ANSI_X3.4", "646": return "US-ASCII"
        case "CP1252", "WINDOWS-1252": return "WINDOWS-1252"
        case "KOI8R", "KOI8-R": return "KOI8-R"
        default:
            if upper.hasPrefix("ISO8859-") { return "ISO-8859-" + upper.dropFirst(8) }
            if upper.hasPrefix("ISO_8859-") { return "ISO-8859-" + upper.dropFirst(9) }
            return upper
        }
    }

    /// Courier's default display charset (`unicode_default_chset`): `MM_CHARSET`, else
    /// `CHARSET`, else the locale's codeset (glibc's `ANSI_X3.4-1968` reported as
    /// `US-ASCII`); at most 31 bytes. Calling it sets the process locale from the
    /// environment, as Courier's library does.
    public static func processDefault() -> String {
        var name: String
        if let v = getenv("MM_CHARSET") {
            name = String(cString: v)
        } else if let v = getenv("CHARSET") {
            name = String(cString: v)
        } else {
            setlocale(LC_ALL, "")
            if let cs = nl_langinfo(nl_item(CODESET)) {
                name = String(cString: cs)
            } else {
                name = "US-ASCII"
            }
            if name == "ANSI_X3.4" || name.hasPrefix("ANSI_X3.4-") { name = "US-ASCII" }
        }
        let bytes = Array(name.utf8.prefix(31))
        return String(decoding: bytes, as: UTF8.self)
    }
}
