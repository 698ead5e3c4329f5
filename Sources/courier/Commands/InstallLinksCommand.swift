import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `courier install-links DIR`: one entry per tool in DIR. Tools with a lean executable next
/// to the courier binary get that executable (copied, or linked with `--lean link`); the
/// others get a symlink to courier, which runs them in-process (DESIGN.md).
struct InstallLinksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-links",
        abstract: "Install the tools into DIR: lean executables where built, else symlinks to courier.",
        discussion: """
            An existing symlink is replaced; an existing regular file only with --force (so \
            installing into a directory that holds other programs never clobbers them).
            """)

    /// How to install a tool that has a lean executable of its own.
    enum LeanMode: String, ExpressibleByArgument, CaseIterable {
        /// Copy the lean executable (for installs).
        case copy
        /// Symlink to the lean executable (for a development tree).
        case link
        /// Ignore lean executables: every tool is a symlink to courier.
        case none
    }

    @Argument(help: ArgumentHelp("Where to put the tools (made if missing).", valueName: "DIR"))
    var directory: String

    @Option(help: "copy: copy lean executables; link: symlink to them; none: symlink every tool to courier.")
    var lean: LeanMode = .copy

    @Flag(help: "Replace regular files that are in the way.")
    var force = false

    func run() throws {
        guard let courier = FileOps.realPath("/proc/self/exe") else {
            throw ValidationError("cannot find the courier executable (/proc/self/exe)")
        }
        let binDirectory = FileOps.directoryName(courier)
        try FileOps.makeDirectories(directory)
        let target = FileOps.realPath(directory) ?? directory
        var skipped = 0
        for tool in ToolCatalog.all {
            let destination = target + "/" + tool.name
            let leanExecutable = binDirectory + "/" + tool.name
            let useLean = lean != .none && ToolCatalog.hasLeanExecutable(tool.name)
                && FileOps.isExecutableFile(leanExecutable) && FileOps.realPath(leanExecutable) != courier
            if useLean, FileOps.realPath(destination) == FileOps.realPath(leanExecutable) {
                print("\(destination): is the lean executable already")
                continue
            }
            if FileOps.isRegularFile(destination), !force {
                let ours = useLean && lean == .copy && FileOps.sameContents(destination, leanExecutable)
                if !ours {
                    printToStandardError("courier install-links: \(destination) exists and is not a link; skipped (use --force to replace it)")
                    skipped += 1
                    continue
                }
            }
            if useLean, lean == .copy {
                try FileOps.copyExecutable(from: leanExecutable, to: destination)
                print("\(destination): lean executable (copy of \(leanExecutable))")
            } else if useLean {
                try FileOps.replaceWithSymlink(destination, pointingTo: leanExecutable)
                print("\(destination) -> \(leanExecutable)")
            } else {
                try FileOps.replaceWithSymlink(destination, pointingTo: courier)
                print("\(destination) -> \(courier)")
            }
        }
        if skipped > 0 { throw ExitCode(1) }
    }
}

/// The few file operations install-links needs (Glibc).
enum FileOps {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func info(_ path: String, follow: Bool) -> stat? {
        var result = stat()
        return (follow ? stat(path, &result) : lstat(path, &result)) == 0 ? result : nil
    }

    static func isRegularFile(_ path: String) -> Bool {
        guard let found = info(path, follow: false) else { return false }
        return (found.st_mode & S_IFMT) == S_IFREG
    }

    static func isExecutableFile(_ path: String) -> Bool {
        guard let found = info(path, follow: true), (found.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw failure("cannot make \(prefix)") }
        }
    }

    static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    static func sameContents(_ a: String, _ b: String) -> Bool {
        guard let first = readAll(a), let second = readAll(b) else { return false }
        return first == second
    }

    /// Writes a temporary file beside `destination`, then renames it into place.
    static func copyExecutable(from source: String, to destination: String) throws {
        guard let bytes = readAll(source) else { throw failure("cannot read \(source)") }
        let temporary = directoryName(destination) + "/.install-links.\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw failure("cannot write \(temporary)") }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                close(fd)
                unlink(temporary)
                throw failure("cannot write \(temporary)")
            }
            offset += count
        }
        fchmod(fd, 0o755)
        close(fd)
        guard rename(temporary, destination) == 0 else {
            unlink(temporary)
            throw failure("cannot install \(destination)")
        }
    }

    static func replaceWithSymlink(_ path: String, pointingTo target: String) throws {
        if info(path, follow: false) != nil, unlink(path) != 0 { throw failure("cannot replace \(path)") }
        guard symlink(target, path) == 0 else { throw failure("cannot link \(path)") }
    }
}
