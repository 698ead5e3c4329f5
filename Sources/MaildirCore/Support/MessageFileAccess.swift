#if canImport(Glibc)
import Glibc
#endif

/// Opens message files for the servers, which read every user's mail from one process (Courier's
/// imapd and pop3d run as the mailbox owner instead). A symbolic link in a user's maildir must
/// not let that user read what the server can but they cannot (`ln -s /etc/shadow cur/x:2,`):
/// a link is followed only to a regular file that any local user could read anyway (readable by
/// others, every directory on its real path searchable by others), which is what Courier's
/// shared folders link to (their maildirs are world-readable).
public enum MessageFileAccess {
    /// `open(path, O_RDONLY)` under that rule; -1 with `errno` set when refused (EACCES) or absent.
    public static func open(_ path: String) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd >= 0 || errno != ELOOP { return fd }
        guard linkTargetIsPublic(path) else {
            errno = EACCES
            return -1
        }
        let followed = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if followed < 0 { return -1 }
        // The link may have been swapped between the check and the open: check what was opened.
        var st = stat()
        guard fstat(followed, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & S_IROTH != 0 else {
            close(followed)
            errno = EACCES
            return -1
        }
        return followed
    }

    /// Reads at most `limit` bytes of a message file; nil if it is absent or refused.
    public static func read(_ path: String, limit: Int = Int.max) -> [UInt8]? {
        let fd = open(path)
        if fd < 0 { return nil }
        defer { close(fd) }
        return try? SystemCall.readAll(fd, path: path, limit: limit)
    }

    static func linkTargetIsPublic(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        defer { free(resolved) }
        let target = String(cString: resolved)
        var st = stat()
        guard stat(target, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & S_IROTH != 0 else { return false }
        // every directory above it must be searchable by others
        var directory = Substring(target)
        while let slash = directory.lastIndex(of: "/") {
            directory = directory[..<slash]
            let name = directory.isEmpty ? "/" : String(directory)
            guard stat(name, &st) == 0, st.st_mode & S_IXOTH != 0 else { return false }
            if directory.isEmpty { break }
        }
        return true
    }
}
