#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension SystemCall {
    /// Replaces the file at `path` with `bytes` so that after a crash it holds the old or the
    /// new contents, never a mixture or nothing: a fresh temporary file beside it (unique per
    /// process and time) is written and fsynced, renamed over `path`, and the directory is
    /// fsynced so that the rename itself is on disk. Small databases of the tools (maildrop's
    /// `gdbmstore` file, mailbot's duplicate list) are written this way.
    public static func replaceFileDurably(_ path: String, bytes: [UInt8], mode: mode_t = 0o600) throws(MaildirError) {
        let t = now()
        let temporary = path + ".tmp.\(getpid()).\(t.seconds).\(t.microseconds)"
        try replaceFile(path, temporaryPath: temporary, bytes: bytes, mode: mode)
        try syncDirectory(directoryName(of: path))
    }

    /// The directory part of `path` (`.` when it has none, `/` for a file at the root).
    public static func directoryName(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == 0 { return "/" }
        return String(decoding: bytes[..<slash], as: UTF8.self)
    }
}
