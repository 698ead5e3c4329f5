/// Size limits for config parsing. Config files are written by administrators, but a parser
/// must still be safe on any bytes (fuzzing, a mistaken `cp /dev/urandom`).
public enum ConfigLimits {
    /// Largest config file we read (bytes); larger files are reported, not parsed.
    public static let maxFileBytes = 4 * 1024 * 1024
    /// Largest userdb text file `makeuserdb` compiles (bytes): big sites keep 100,000s of
    /// accounts there; the daemon reads the compiled form, not the text.
    public static let maxUserdbBytes = 512 * 1024 * 1024
    /// Most files taken from one directory source (`aliases/`, `smtpaccess/`, …).
    public static let maxDirectoryFiles = 10_000
    /// Longest variable value after expansion (bytes).
    public static let maxValueBytes = 256 * 1024
}
