#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `$SHELL -c command` the way maildrop runs its children (tools.md §1.6): the filter's
/// variables as the environment, `argv[0]` the shell's base name, stdin from the given bytes
/// (an unlinked temporary file, so a child that does not read cannot block us), stdout inherited or
/// captured.
enum ChildProcess {
    struct Result {
        /// The exit status, or -1 if the child was killed or could not start.
        var status: Int32
        var output: [UInt8]
    }

    enum Input {
        case devNull
        case bytes([UInt8])
    }

    static func run(shell: String, command: String, environment: [String], input: Input,
                    captureOutput: Bool) -> Result {
        var inputFD: Int32 = -1
        switch input {
        case .devNull:
            inputFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        case .bytes(let bytes):
            inputFD = memoryFile(bytes)
        }
        guard inputFD >= 0 else { return Result(status: -1, output: []) }
        defer { close(inputFD) }
        var pipeFDs: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&pipeFDs) == 0 else { return Result(status: -1, output: []) }
            _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputFD, 0)
        if captureOutput { posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGALRM)
        sigaddset(&defaults, SIGHUP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let shellName = baseName(shell)
        let argv: [String] = [shellName, "-c", command]
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { cArgv in
            withCStrings(environment) { cEnv in
                posix_spawn(&pid, shell, &actions, &attributes, cArgv, cEnv)
            }
        }
        if captureOutput { close(pipeFDs[1]) }
        guard spawned == 0 else {
            if captureOutput { close(pipeFDs[0]) }
            printError("Unable to execute \(shell)\n")
            return Result(status: -1, output: [])
        }
        var output: [UInt8] = []
        if captureOutput {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
                if n > 0 {
                    output.append(contentsOf: buffer[0..<n])
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(pipeFDs[0])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return Result(status: -1, output: output) }
        }
        if status & 0x7F == 0 { return Result(status: (status >> 8) & 0xFF, output: output) }
        return Result(status: -1, output: output)
    }

    /// An anonymous file holding `bytes`, positioned at its start.
    static func memoryFile(_ bytes: [UInt8]) -> Int32 {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((directory + "/maildrop.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { return -1 }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                close(fd)
                return -1
            }
            offset += n
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    static func baseName(_ path: String) -> String {
        if let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) {
            return String(path[path.utf8.index(after: slash)...])
        }
        return path
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Writes a message to stderr, unbuffered.
func printError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
        offset += n
    }
}
