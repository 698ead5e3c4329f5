import MailConfig
#if canImport(Glibc)
import Glibc
#endif

/// Where an auth tool reads and writes: the process's descriptors, or buffers in tests.
public final class ToolIO {
    /// Reads one line from standard input without its newline; nil at end of input.
    public var readLine: () -> [UInt8]?
    /// Reads a password: from the terminal with echo off when standard input is one
    /// (prompting on stderr), else one line of standard input.
    public var readSecret: (_ prompt: String) -> [UInt8]?
    public var standardInputIsTerminal: Bool
    public var environment: [String: String]
    public private(set) var output: [UInt8] = []
    public private(set) var errors: [UInt8] = []
    private let echo: Bool

    /// The process's own standard input, output and error.
    public static func process() -> ToolIO {
        let io = ToolIO(environment: ConfigRoot.processEnvironment(), echo: true,
                        terminal: isatty(0) == 1, readLine: { TerminalInput.readLine(fd: 0) })
        io.readSecret = { prompt in TerminalInput.readSecret(prompt: prompt) }
        return io
    }

    /// Buffers for tests: `input` is standard input; output and errors are collected.
    public static func buffered(input: [UInt8] = [], environment: [String: String] = [:], terminal: Bool = false) -> ToolIO {
        var lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        if input.last == UInt8(ascii: "\n") || input.isEmpty { lines.removeLast() }
        var remaining = lines[...]
        let next: () -> [UInt8]? = {
            guard let line = remaining.first else { return nil }
            remaining = remaining.dropFirst()
            return line
        }
        let io = ToolIO(environment: environment, echo: false, terminal: terminal, readLine: next)
        io.readSecret = { _ in next() }
        return io
    }

    private init(environment: [String: String], echo: Bool, terminal: Bool, readLine: @escaping () -> [UInt8]?) {
        self.environment = environment
        self.echo = echo
        self.standardInputIsTerminal = terminal
        self.readLine = readLine
        self.readSecret = { _ in readLine() }
    }

    public func print(_ text: String) {
        write(Array((text + "\n").utf8), fd: 1)
    }

    public func printError(_ text: String) {
        write(Array((text + "\n").utf8), fd: 2)
    }

    public func write(_ bytes: [UInt8], fd: Int32) {
        if echo {
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return }
                offset += count
            }
        } else if fd == 2 {
            errors += bytes
        } else {
            output += bytes
        }
    }

    public var outputText: String { String(decoding: output, as: UTF8.self) }
    public var errorText: String { String(decoding: errors, as: UTF8.self) }

    /// The config root of the tools (`$COURIER_ROOT`, else Courier's prefix).
    public var root: ConfigRoot {
        ConfigRoot.resolve(explicit: nil, environment: environment)
    }
}

/// Line and password input from a descriptor (Glibc).
enum TerminalInput {
    static func readLine(fd: Int32, limit: Int = 1 << 20) -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(fd, &byte, 1)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return line.isEmpty ? nil : line }
            if byte == UInt8(ascii: "\n") { return line }
            if line.count < limit { line.append(byte) }
        }
    }

    /// Prompts on stderr and reads a line from the terminal with echo off.
    static func readSecret(prompt: String) -> [UInt8]? {
        guard isatty(0) == 1 else { return readLine(fd: 0) }
        printToError(prompt)
        var saved = termios()
        let haveTerminal = tcgetattr(0, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSAFLUSH, &quiet)
        }
        let line = readLine(fd: 0)
        if haveTerminal { tcsetattr(0, TCSAFLUSH, &saved) }
        printToError("\n")
        return line
    }

    static func printToError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
