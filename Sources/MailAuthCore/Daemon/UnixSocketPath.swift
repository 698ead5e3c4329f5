#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket path short enough for `sockaddr_un` (108 bytes). A longer path (a deep
/// config root) is reached through its directory: the directory is opened and the
/// socket named as `/proc/self/fd/N/NAME`, which Linux resolves for bind and connect alike.
/// Keep the value alive while the path is used.
public final class UnixSocketPath: Sendable {
    /// The path to hand to bind or connect.
    public let usable: String
    private let directoryDescriptor: Int32

    public static let maxPathBytes = 107

    public init?(_ path: String) {
        if path.utf8.count <= Self.maxPathBytes {
            usable = path
            directoryDescriptor = -1
            return
        }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        let directory = String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let short = "/proc/self/fd/\(fd)/\(name)"
        guard short.utf8.count <= Self.maxPathBytes else {
            close(fd)
            return nil
        }
        usable = short
        directoryDescriptor = fd
    }

    deinit {
        if directoryDescriptor >= 0 { close(directoryDescriptor) }
    }
}
