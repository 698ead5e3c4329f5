#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `-s prog args…`: splits an mbox on standard input, running `prog` once per message with
/// the message on its standard input and `FILENO` set to the message number.
///
/// A message starts at a `From ` line; the line break before the next `From ` line (normally
/// the blank separator line) and the last message's final line break are not passed on.
/// The first line comes straight from the input, the rest through the normal reformail
/// pipeline, so the first message's headers get the header options as well (as in Courier).
/// A child that fails (non-zero exit or a signal) ends the split; the exit status stays 0.
enum MboxSplit {
    static func run(_ engine: ReformailEngine, command: [[UInt8]], crlf: Bool) -> Int32 {
        var pending: [UInt8]?
        repeat { pending = engine.reader.nextLine() } while pending?.first == 0x0A
        signal(SIGCHLD, SIG_DFL)
        signal(SIGPIPE, SIG_IGN)
        var numbering = FileNumbering(environmentValue: getenv("FILENO").map { cStringBytes($0) })

        while let first = pending {
            var fds: [Int32] = [-1, -1]
            if pipe(&fds) < 0 {
                printError("reformail: pipe() failed.\n")
                return 1
            }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            let child = spawn(command, stdinFD: fds[0], fileNumber: numbering.next())
            close(fds[0])
            let pid: pid_t
            switch child {
            case .running(let p):
                pid = p
            case .failedExec:
                // Courier's child prints this and exits 1, which ends the split with status 0.
                close(fds[1])
                printError("reformail: exec() failed.\n")
                return 0
            case .failedFork:
                close(fds[1])
                printError("reformail: fork() failed.\n")
                return 1
            }
            let pipeOut = PipeWriter(fd: fds[1])
            var line = first
            repeat {
                var chunk = line
                pending = engine.readLine()
                if let next = pending, !ReformailEngine.isFromLine(next) {
                    if crlf {
                        _ = chunk.popLast()
                        chunk.append(contentsOf: [0x0D, 0x0A])
                    }
                    line = next
                } else {
                    _ = chunk.popLast()
                }
                if !pipeOut.write(chunk) { return writeFailed() }
            } while pending.map { !ReformailEngine.isFromLine($0) } ?? false
            if !pipeOut.flush() { return writeFailed() }
            close(fds[1])

            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return 0 }
            }
            let exitedNormally = (status & 0x7F) == 0
            if !exitedNormally || ((status >> 8) & 0xFF) != 0 { return 0 }
        }
        return 0
    }

    private static func writeFailed() -> Int32 {
        printError("reformail: write() failed.\n")
        return 1
    }

    /// The `FILENO` values: the variable's digits give the start and the width (zero padded);
    /// unset means `000`, `001`…; anything else leaves the variable alone.
    struct FileNumbering {
        var counter: UInt64 = 0
        var width = 3
        var enabled = true

        init(environmentValue: [UInt8]?) {
            guard let value = environmentValue else { return }
            guard value.allSatisfy(CByteClass.isDigit) else {
                enabled = false
                return
            }
            width = value.count
            counter = UInt64(bitPattern: Int64(ReformailOptions.cInteger(value)))
        }

        /// The next value (nil when `FILENO` is not managed), then counts up.
        mutating func next() -> [UInt8]? {
            defer { counter &+= 1 }
            guard enabled else { return nil }
            var n = counter
            var remainingWidth = width
            var digits: [UInt8] = []
            while n != 0 || remainingWidth > 0 {
                digits.append(UInt8(ascii: "0") + UInt8(n % 10))
                n /= 10
                if remainingWidth > 0 { remainingWidth -= 1 }
            }
            return digits.reversed()
        }
    }

    enum Child {
        case running(pid_t)
        case failedExec
        case failedFork
    }

    /// Starts `command` (searched in PATH) with `stdinFD` as its standard input.
    private static func spawn(_ command: [[UInt8]], stdinFD: Int32, fileNumber: [UInt8]?) -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)

        let argv = command.map { cDuplicate($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = environment(fileNumber: fileNumber)
        defer { env.forEach { free($0) } }

        guard let program = argv[0] else { return .failedFork }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, program, &actions, nil, argv, env)
        if rc == 0 { return .running(pid) }
        return (rc == EAGAIN || rc == ENOMEM) ? .failedFork : .failedExec
    }

    /// This process's environment with `FILENO` replaced (or added), as `putenv` does.
    private static func environment(fileNumber: [UInt8]?) -> [UnsafeMutablePointer<CChar>?] {
        var entries: [UnsafeMutablePointer<CChar>?] = []
        var replaced = fileNumber == nil
        let name = Array("FILENO=".utf8)
        var p = environ
        while let entry = p.pointee {
            let bytes = cStringBytes(entry)
            if !replaced, bytes.starts(with: name), let number = fileNumber {
                entries.append(cDuplicate(name + number))
                replaced = true
            } else {
                entries.append(strdup(entry))
            }
            p += 1
        }
        if !replaced, let number = fileNumber { entries.append(cDuplicate(name + number)) }
        entries.append(nil)
        return entries
    }

    private static func cDuplicate(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
        guard let p = malloc(bytes.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return p
    }

    static func cStringBytes(_ p: UnsafePointer<CChar>) -> [UInt8] {
        var out: [UInt8] = []
        var q = p
        while q.pointee != 0 {
            out.append(UInt8(bitPattern: q.pointee))
            q += 1
        }
        return out
    }
}

/// Buffered writes to a pipe, reporting failure (EPIPE...) instead of raising SIGPIPE.
final class PipeWriter {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: [UInt8]) -> Bool {
        buffer.append(contentsOf: bytes)
        return buffer.count < 64 * 1024 || flush()
    }

    func flush() -> Bool {
        var offset = 0
        defer { buffer.removeAll(keepingCapacity: true) }
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
