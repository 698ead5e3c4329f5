#if canImport(Glibc)
import Glibc
#endif

/// `close(2)` without the name clash of actor methods called `close`.
enum FileIOClose {
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
