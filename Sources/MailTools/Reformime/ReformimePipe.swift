#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `-X prog args…`: runs `prog` (no PATH search, like execv) for a section with its
/// decoded body on stdin and `CONTENT_TYPE`, `FILENAME` in the environment. A non-zero
/// exit status N ends reformime with status 20 + N.
enum ReformimePipe {
    static func run(_ ctx: ReformimeContext, _ message: MIMEMessage, _ index: Int) throws {
        let namer = ReformimeFileNames(ctx: ctx, message: message, index: index)
        let filenameVar = (try namer.suitableName(prefix: Array("FILENAME=".utf8), renaming: false)) ?? Array("FILENAME=attachment.dat".utf8)
        let argv = ctx.options.rest
        guard let program = argv.first else {
            throw ReformimeContext.Failure(message: "reformime: Invalid -X option.\n")
        }
        let type = message.info(of: index, defaultCharset: []).contentType
        let typeVar = Array("CONTENT_TYPE=".utf8) + type

        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw ReformimeContext.Failure(message: "pipe: \(String(cString: strerror(errno)))\n")
        }
        var env = environmentWithout(["CONTENT_TYPE", "FILENAME"])
        env.append(filenameVar)
        env.append(typeVar)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])

        var pid: pid_t = 0
        let spawnError = withCStrings(argv) { cargv in
            withCStrings(env) { cenv in
                ReformimeFileNames.cPath(program) { posix_spawn(&pid, $0, &actions, nil, cargv, cenv) }
            }
        }
        close(fds[0])
        var status: Int32 = 0
        if spawnError != 0 {
            // Courier's child prints perror("exec") and exits 1.
            printError("exec: \(String(cString: strerror(spawnError)))\n")
            close(fds[1])
            status = 1
        } else {
            let oldHandler = signal(SIGPIPE, SIG_IGN)
            let sink = FDOutput(fd: fds[1])
            ReformimeExtract.writeDecoded(ctx, message, index) { sink.write($0) }
            sink.flush()
            signal(SIGPIPE, oldHandler)
            close(fds[1])
            var waitStatus: Int32 = 0
            while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS
            if waitStatus & 0x7F == 0 { status = (waitStatus >> 8) & 0xFF } else { return }
        }
        if status != 0 {
            throw ReformimeContext.Failure(message: "reformime: \(String(decoding: program, as: UTF8.self)) exited with status \(status).\n",
                                           status: status + 20)
        }
    }

    /// The environment minus the variables named `names` (raw bytes).
    static func environmentWithout(_ names: [String]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var p = environ
        while let entry = p.pointee {
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry)))
            let key = bytes.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init) ?? bytes
            if !names.contains(where: { Array($0.utf8) == key }) { result.append(bytes) }
            p += 1
        }
        return result
    }

    /// Calls `body` with a NULL-terminated array of C strings.
    static func withCStrings<R>(_ strings: [[UInt8]], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { s in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: s.count + 1)
            for (i, b) in s.enumerated() { p[i] = CChar(bitPattern: b) }
            p[s.count] = 0
            return p
        }
        pointers.append(nil)
        defer { for p in pointers { p?.deallocate() } }
        return pointers.withUnsafeBufferPointer { buf in
            body(buf.baseAddress!)
        }
    }
}
