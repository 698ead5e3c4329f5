#if canImport(Glibc)
import Glibc
#endif

/// A compiled userdb file mapped into memory, read-only. The mapping stays valid after the
/// file is replaced (makeuserdb renames a new file into place), so readers never see a
/// half-written database; `UserdbStore` maps the new version when it notices the change.
public final class UserdbDatabaseFile: @unchecked Sendable {
    // Immutable after init: the mapping is never written, so sharing across threads is safe.
    private let mapping: UnsafeMutableRawPointer?
    private let length: Int
    private let inMemory: [UInt8]?
    public let path: String
    public let version: AuthFiles.Version?

    /// Maps `path`; nil when it does not exist; an error when it is not a compiled userdb.
    public static func open(_ path: String) throws(AuthFileError) -> UserdbDatabaseFile? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .system(path, "cannot open")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(path, "cannot examine") }
        let size = Int(info.st_size)
        guard size > 0, size <= UserdbDatabaseFormat.maxFileBytes else {
            throw AuthFileError(path: path, reason: "not a compiled userdb (size \(size)); run makeuserdb")
        }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw .system(path, "cannot map")
        }
        let version = AuthFiles.Version(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: size,
            modifiedNanoseconds: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
        let file = UserdbDatabaseFile(mapping: pointer, length: size, bytes: nil, path: path, version: version)
        guard file.isValid else {
            throw AuthFileError(path: path, reason: "not a compiled userdb or damaged; run makeuserdb")
        }
        return file
    }

    /// A database held in memory (compiled from text on the fly, or tests).
    public convenience init?(bytes: [UInt8], path: String) {
        self.init(mapping: nil, length: bytes.count, bytes: bytes, path: path, version: nil)
        guard isValid else { return nil }
    }

    private init(mapping: UnsafeMutableRawPointer?, length: Int, bytes: [UInt8]?, path: String, version: AuthFiles.Version?) {
        self.mapping = mapping
        self.length = length
        self.inMemory = bytes
        self.path = path
        self.version = version
    }

    deinit {
        if let mapping { munmap(mapping, length) }
    }

    private var isValid: Bool {
        withView { $0 != nil } ?? false
    }

    /// Runs `body` with a view of the database.
    func withView<T>(_ body: (UserdbDatabaseView?) -> T) -> T? {
        if let inMemory {
            return inMemory.withUnsafeBytes { body(UserdbDatabaseView($0)) }
        }
        guard let mapping else { return nil }
        return body(UserdbDatabaseView(UnsafeRawBufferPointer(start: mapping, count: length)))
    }

    /// The fields text stored for `name`.
    public func value(for name: [UInt8]) -> [UInt8]? {
        withView { $0?.value(for: name) } ?? nil
    }

    public var count: Int {
        withView { $0?.count ?? 0 } ?? 0
    }

    public func allEntries() -> [(name: [UInt8], value: [UInt8])] {
        withView { $0?.allEntries() ?? [] } ?? []
    }
}
