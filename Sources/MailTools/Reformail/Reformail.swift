#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MailCore
import ToolSupport

/// `reformail`: Courier's reformail(1), byte-compatible with maildrop 2.9.3 (spec/tools.md §3).
public enum Reformail {
    /// Runs reformail with `arguments` (argv, program name first); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        run(arguments: RawArguments.bytes(for: arguments), input: 0, output: 1)
    }

    /// Runs reformail on raw argument bytes, reading `input` and writing `output`.
    public static func run(arguments: [[UInt8]], input: Int32, output: Int32) -> Int32 {
        guard let options = ReformailOptions.parse(arguments, messageID: { MessageIDGenerator.make() }) else {
            printError("reformail: Invalid arguments.\n")
            return 1
        }
        let reader = InputReader(fd: input)
        let engine = ReformailEngine(reader: reader, options: options, fromLineDate: { CTimeFormat.now() })
        let out = FDOutput(fd: output)
        switch options.mode {
        case .copy:
            copy(engine, to: out)
        case .extract:
            HeaderExtraction.run(engine, values: options.extractValues, headers: options.extractHeaders, to: out)
        case .duplicateCache(let maxLength, let file):
            return DuplicateCache.run(engine, maxLength: maxLength, file: file)
        case .split(let command):
            let status = MboxSplit.run(engine, command: command, crlf: options.crlf)
            if status != 0 { return status }
        }
        if !out.flush() || out.failed {
            printError("reformail: error writing output.\n")
            return 1
        }
        return 0
    }

    /// The default mode: headers line by line through the pipeline, then the body streamed.
    static func copy(_ engine: ReformailEngine, to out: FDOutput) {
        while true {
            if let quoting = engine.bodyQuoting {
                BodyStreamer.copy(from: engine.reader, quoting: quoting, crlf: engine.crlf, to: out)
                return
            }
            guard let line = engine.readLine() else { return }
            out.write(line)
        }
    }
}

/// The process's argument bytes exactly as the kernel passed them: Swift's `CommandLine`
/// strings repair invalid UTF-8, which would change header options in other charsets.
enum RawArguments {
    static func bytes(for arguments: [String]) -> [[UInt8]] {
        if arguments == CommandLine.arguments {
            let raw = ProcessArguments.raw()
            if raw.count == arguments.count { return raw }
        }
        return arguments.map { Array($0.utf8) }
    }
}
