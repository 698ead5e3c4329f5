#if canImport(Glibc)
import Glibc
#endif

/// Runs a delivery program (`| command` in a `.courier` file) as the mailbox owner:
/// `/bin/sh -c command`, stdin = the message, environment exactly Courier's (spec/mta.md §5.2.4).
/// When this process is root it switches to the owner's uid/gid in the child; uid 0 is refused.
enum ProgramRunner {
    struct Result {
        var status: Int32
        /// stdout+stderr (capped), for the diagnostic or for `||` instructions.
        var output: [UInt8]
    }

    static func run(command: String, input: [UInt8], environment: [String: String], uid: UInt32, gid: UInt32,
                    directory: String) -> Result {
        guard uid != 0 else { return Result(status: 75, output: Array("refusing to run a program as root".utf8)) }
        guard let stdinFile = anonymousFile(), let outputFile = anonymousFile() else {
            return Result(status: 75, output: Array("cannot create temporary files".utf8))
        }
        defer {
            close(stdinFile)
            close(outputFile)
        }
        var written = 0
        while written < input.count {
            let count = input.withUnsafeBytes { write(stdinFile, $0.baseAddress! + written, input.count - written) }
            if count <= 0 {
                if count < 0 && errno == EINTR { continue }
                return Result(status: 75, output: Array("cannot write temporary file".utf8))
            }
            written += count
        }
        lseek(stdinFile, 0, SEEK_SET)

        // Everything the child needs is built before fork: after it only async-signal-safe calls.
        let arguments: [UnsafeMutablePointer<CChar>?] = (["/bin/sh", "-c", command] as [String]).map { (text: String) in strdup(text) }
        let environmentStrings: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup($0.key + "=" + $0.value) }
        defer {
            arguments.forEach { free($0) }
            environmentStrings.forEach { free($0) }
        }
        let argv = arguments + [nil]
        let envp = environmentStrings + [nil]
        let switchUser = getuid() == 0
        let child = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                directory.withCString { directoryPath in
                    forkAndExec(argv: argvBuffer.baseAddress!, envp: envpBuffer.baseAddress!, directory: directoryPath,
                                stdinFile: stdinFile, outputFile: outputFile, switchUser: switchUser, uid: uid, gid: gid)
                }
            }
        }
        guard child > 0 else { return Result(status: 75, output: Array("cannot start program".utf8)) }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32
        if status & 0x7F == 0 {
            exitCode = (status >> 8) & 0xFF
        } else {
            exitCode = 77 // killed by a signal: permanent (spec/mta.md §5.2.5)
        }
        var output = [UInt8](repeating: 0, count: 8192)
        let count = output.withUnsafeMutableBytes { pread(outputFile, $0.baseAddress!, $0.count, 0) }
        output = count > 0 ? Array(output[0..<count]) : []
        return Result(status: exitCode, output: output)
    }

    private static func forkAndExec(argv: UnsafePointer<UnsafeMutablePointer<CChar>?>,
                                    envp: UnsafePointer<UnsafeMutablePointer<CChar>?>,
                                    directory: UnsafePointer<CChar>, stdinFile: Int32, outputFile: Int32,
                                    switchUser: Bool, uid: UInt32, gid: UInt32) -> pid_t {
        let pid = fork()
        if pid != 0 { return pid }
        // Child.
        if dup2(stdinFile, 0) < 0 || dup2(outputFile, 1) < 0 || dup2(outputFile, 2) < 0 { _exit(75) }
        if switchUser {
            if setgroups(0, nil) != 0 || setgid(gid) != 0 || setuid(uid) != 0 { _exit(75) }
        }
        if getuid() == 0 || geteuid() == 0 { _exit(75) }
        // The account's home; one it cannot enter gives "/", never the server's own directory.
        if chdir(directory) != 0 && chdir("/") != 0 { _exit(75) }
        execve("/bin/sh", argv, envp)
        _exit(75)
    }

    private static func anonymousFile() -> Int32? {
        var template = Array("/tmp/courier-delivery-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// spec/mta.md §5.2.5: 0 and 99 succeed; these fail permanently; anything else defers.
    static let permanentFailures: Set<Int32> = [64, 65, 67, 68, 69, 70, 76, 77, 78, 100, 112]
}
