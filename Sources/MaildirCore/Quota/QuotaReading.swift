#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `maildirsize` as one read found it, with the version of the file it came from, so that a
/// later look can tell with one `stat` whether it is still that file (`MaildirQuota.reading(
/// unlessUnchanged:)`).
public struct QuotaReading: Hashable, Sendable {
    public var file: MaildirSizeFile
    /// The file's modification time, seconds (Courier's 15-minute trust rule).
    public var modified: Int64
    var version: FileVersion
}

/// What changes whenever a file's content may have: another inode (replaced through `tmp/`),
/// another size or modification or change time (appended to; times in nanoseconds).
struct FileVersion: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64
    var changedSeconds: Int64
    var changedNanoseconds: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modifiedSeconds = Int64(st.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(st.st_mtim.tv_nsec)
        changedSeconds = Int64(st.st_ctim.tv_sec)
        changedNanoseconds = Int64(st.st_ctim.tv_nsec)
    }
}
